"""The official schemas (definitions) as kube-apiserver 1.32 publishes them, and lookup by GVK.

Source: the official 1.32 definitions that ``kubernetes-validate`` ships as JSON Schema
(``$defs``). They differ from the OpenAPI v3 documents kube-apiserver serves in a few ways,
which :func:`definitions` undoes:

- nullable types are written ``["string", "null"]``; OpenAPI 3.0 wants one type;
- references are ``#/$defs/X``, with siblings (``description``) beside ``$ref``; kube writes
  ``{"allOf": [{"$ref": "#/components/schemas/X"}], "description": ...}``;
- ``apiVersion``/``kind`` carry an ``enum`` that kube does not publish, while the real
  enumerations (``restartPolicy``, ``imagePullPolicy``, ...) are missing: they come from
  :mod:`kubelite.apiserver.openapi.openapi_enums`;
- ``IntOrString`` and ``Quantity`` are ``oneOf`` without a description; kube publishes them
  as strings (``format: int-or-string`` for the former).

Contract: :func:`schema_for` gives the schema of a kind with every reference resolved, for
validation and strategic merge patch. Resolved schemas share sub-trees: never mutate them.
"""

from __future__ import annotations

import importlib.util
import threading
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from kubelite.api.meta import JSON
from kubelite.apiserver.openapi.openapi_enums import ENUMS, enum_description

KUBERNETES_VERSION = "v1.32.0"
REF_PREFIX = "#/components/schemas/"
_DEFS_PREFIX = "#/$defs/"

PATCH_CONTENT_TYPES = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)

_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
META_PREFIX = "io.k8s.apimachinery.pkg.apis.meta.v1."


class OpenAPIError(Exception):
    """The bundled definitions are missing or do not describe what kubelite serves."""


def definitions_file() -> Path:
    """The 1.32 ``_definitions.json`` inside the installed ``kubernetes-validate``."""
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or spec.origin is None:
        raise OpenAPIError("the kubernetes-validate package is not installed")
    path = (Path(spec.origin).parent / "kubernetes-json-schema"
            / f"{KUBERNETES_VERSION}-local" / "_definitions.json")
    if not path.is_file():
        raise OpenAPIError(f"missing Kubernetes {KUBERNETES_VERSION} definitions: {path}")
    return path


# --------------------------------------------------------------------------- definitions

def _normalise(node: Any) -> Any:
    """One JSON Schema node in the OpenAPI 3.0 form kube-apiserver publishes."""
    if isinstance(node, list):
        return [_normalise(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: JSON = {}
    for key, value in node.items():
        if key == "type" and isinstance(value, list):
            types = [t for t in value if t != "null"]
            out["type"] = types[0] if len(types) == 1 else types
        elif key == "$ref" and isinstance(value, str):
            out["$ref"] = REF_PREFIX + value.removeprefix(_DEFS_PREFIX)
        elif key in ("properties", "patternProperties") and isinstance(value, dict):
            out[key] = {k: _normalise(v) for k, v in value.items()}
        else:
            out[key] = _normalise(value)
    if "$ref" in out and len(out) > 1:
        ref = out.pop("$ref")
        out = {"allOf": [{"$ref": ref}], **out}
    return out


def _fix_definition(name: str, schema: JSON) -> JSON:
    if name == _INT_OR_STRING:
        return {"description": "IntOrString holds either an int32 or a string; in JSON it is "
                               "written as a number or as a string.",
                "format": "int-or-string", "type": "string"}
    if name == _QUANTITY:
        return {"description": "Quantity is a fixed-point number with an optional suffix "
                               "(for example 100m, 128Mi, 1G), written as a string.",
                "type": "string"}
    props = schema.get("properties")
    if isinstance(props, dict):
        for field in ("apiVersion", "kind"):
            if isinstance(props.get(field), dict):
                props[field].pop("enum", None)
    return schema


def _apply_enums(defs: dict[str, JSON]) -> None:
    for (name, prop), values in ENUMS.items():
        schema = defs.get(name)
        if schema is None:
            continue
        items = prop.endswith("[]")
        field = schema.get("properties", {}).get(prop.removesuffix("[]"))
        if field is None:
            raise OpenAPIError(f"enum table names an unknown field {name}.{prop}")
        target = field.get("items") if items else field
        if not isinstance(target, dict):
            raise OpenAPIError(f"enum table names a non-array field {name}.{prop}")
        target["enum"] = list(values)
        if "description" in field:
            field["description"] = enum_description(field["description"], values)


@cache
def definitions() -> dict[str, JSON]:
    """Every 1.32 schema, keyed by its OpenAPI name (``io.k8s.api.core.v1.Pod``)."""
    raw = orjson.loads(definitions_file().read_bytes())
    defs: dict[str, JSON] = {
        name: _fix_definition(name, _normalise(schema))
        for name, schema in raw["$defs"].items()
    }
    _apply_enums(defs)
    return defs


@cache
def _gvk_index() -> dict[tuple[str, str, str], str]:
    index: dict[tuple[str, str, str], str] = {}
    for name, schema in definitions().items():
        for gvk in schema.get("x-kubernetes-group-version-kind", ()):
            key = (gvk["group"], gvk["version"], gvk["kind"])
            # meta kinds (DeleteOptions, WatchEvent) are tagged with every group; a
            # group's own type wins over the shared one
            if key not in index or not name.startswith(META_PREFIX):
                index[key] = name
    return index


def schema_name(group: str, version: str, kind: str) -> str | None:
    """The OpenAPI name of the schema tagged with this GVK, or None."""
    return _gvk_index().get((group, version, kind))


def ref_name(node: JSON) -> str | None:
    """The schema a node refers to (``$ref`` or kube's ``allOf: [{$ref}]``), or None."""
    ref = node.get("$ref")
    if ref is None:
        all_of = node.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
            ref = all_of[0].get("$ref")
    if isinstance(ref, str) and ref.startswith(REF_PREFIX):
        return ref[len(REF_PREFIX):]
    return None


def resolve(node: JSON) -> JSON:
    """``node`` with one level of reference replaced by the definition it names.

    The node's own keys (description, patch strategy) win over the definition's.
    """
    name = ref_name(node)
    if name is None:
        return node
    target = definitions().get(name)
    if target is None:
        raise OpenAPIError(f"unresolvable reference to {name}")
    siblings = {k: v for k, v in node.items() if k not in ("$ref", "allOf")}
    return {**target, **siblings}


_resolved: dict[str, JSON] = {}
_resolved_lock = threading.Lock()


def _resolve_deep(node: Any, stack: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_resolve_deep(v, stack) for v in node]
    if not isinstance(node, dict):
        return node
    name = ref_name(node)
    if name is not None:
        if name in stack:  # recursive type (JSONSchemaProps): keep the reference
            return node
        target = _resolved_definition(name, stack)
        siblings = {k: v for k, v in node.items() if k not in ("$ref", "allOf")}
        return {**target, **siblings} if siblings else target
    out: JSON = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties") and isinstance(value, dict):
            out[key] = {k: _resolve_deep(v, stack) for k, v in value.items()}
        elif key in ("items", "additionalProperties", "allOf", "oneOf", "anyOf"):
            out[key] = _resolve_deep(value, stack)
        else:
            out[key] = value
    return out


def _resolved_definition(name: str, stack: tuple[str, ...] = ()) -> JSON:
    done = _resolved.get(name)
    if done is not None:
        return done
    schema = definitions().get(name)
    if schema is None:
        raise OpenAPIError(f"unresolvable reference to {name}")
    result: JSON = _resolve_deep(schema, (*stack, name))
    _resolved[name] = result
    return result


def resolved_schema(name: str) -> JSON:
    """The named schema with every (non-recursive) reference resolved in place."""
    with _resolved_lock:
        return _resolved_definition(name)


def schema_for(group: str, version: str, kind: str) -> JSON | None:
    """The resolved schema of a kind (``("apps", "v1", "Deployment")``), or None."""
    name = schema_name(group, version, kind)
    return None if name is None else resolved_schema(name)


