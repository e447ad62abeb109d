"""Unknown fields in an object, by the official schemas (fieldValidation Strict/Warn).

``unknown_fields`` walks an object beside its schema and names every field the schema does
not know, as kube-apiserver's strict decoder does: ``spec.containers[0].imagePullPolice``.
"""

from __future__ import annotations

from typing import Any

from kubelite.api.meta import JSON
from kubelite.apiserver.openapi import openapi

_RESOLVED: dict[int, JSON] = {}


def _deref(node: JSON, defs: dict[str, JSON]) -> JSON:
    """The schema behind ``node``'s ``$ref``/single ``allOf`` (memoised: schemas are static)."""
    key = id(node)
    hit = _RESOLVED.get(key)
    if hit is None:
        hit = _RESOLVED[key] = _deref_uncached(node, defs)
    return hit


def _deref_uncached(node: JSON, defs: dict[str, JSON]) -> JSON:
    seen = 0
    while seen < 16:
        seen += 1
        ref = node.get("$ref")
        if isinstance(ref, str):
            node = defs.get(ref.rsplit("/", 1)[-1], {})
            continue
        all_of = node.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
            node = all_of[0]
            continue
        break
    return node


def _walk(value: Any, schema: JSON, path: str, defs: dict[str, JSON], out: list[str]) -> None:
    schema = _deref(schema, defs)
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return
    if isinstance(value, dict):
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        if isinstance(props, dict):
            for key, sub in value.items():
                child = f"{path}.{key}" if path else key
                if key in props:
                    _walk(sub, props[key], child, defs, out)
                else:
                    out.append(child)
        elif isinstance(extra, dict):
            for key, sub in value.items():
                _walk(sub, extra, f"{path}[{key}]" if path else key, defs, out)
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for i, sub in enumerate(value):
                _walk(sub, items, f"{path}[{i}]", defs, out)


def unknown_fields(obj: JSON, group: str, version: str, kind: str) -> list[str]:
    """Paths of the fields in ``obj`` that the schema of group/version/kind lacks."""
    name = openapi.schema_name(group, version, kind)
    if name is None:
        return []
    defs = openapi.definitions()
    out: list[str] = []
    _walk(obj, defs[name], "", defs, out)
    return out
