"""``/openapi/v2``: the served API as one Swagger 2.0 document (JSON), derived from the v3
documents of :mod:`kubelite.apiserver.openapi.openapi`.

Definitions are the v3 component schemas with references pointed at ``#/definitions/``;
operations keep their ``x-kubernetes-*`` extensions, take the request body as a ``body``
parameter and list ``consumes``/``produces`` from the v3 content types. Built once.
"""

from __future__ import annotations

import threading
from typing import Any

import orjson

from kubelite.api.meta import JSON
from kubelite.apiserver.openapi import openapi

_V3_REF = "#/components/schemas/"
_V2_REF = "#/definitions/"
_lock = threading.Lock()
_cached: bytes | None = None


def _refs(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _refs(v) for k, v in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith(_V3_REF):
            out["$ref"] = _V2_REF + ref[len(_V3_REF):]
        return out
    if isinstance(node, list):
        return [_refs(v) for v in node]
    return node


def _parameter(p: JSON) -> JSON:
    out: JSON = {k: v for k, v in p.items() if k != "schema"}
    out.update({k: v for k, v in (p.get("schema") or {}).items() if k != "$ref"})
    return out


def _operation(op: JSON) -> JSON:
    out: JSON = {k: v for k, v in op.items() if k not in ("requestBody", "responses",
                                                          "parameters")}
    params = [_parameter(p) for p in op.get("parameters") or []]
    body = op.get("requestBody")
    if isinstance(body, dict):
        content: JSON = body.get("content") or {}
        out["consumes"] = list(content)
        first: JSON = next(iter(content.values()), {})
        schema = first.get("schema", {})
        params.insert(0, {"name": "body", "in": "body", "required": True,
                          "schema": _refs(schema)})
    if params:
        out["parameters"] = params
    produces: list[str] = []
    responses: JSON = {}
    for code, resp in (op.get("responses") or {}).items():
        entry: JSON = {"description": resp.get("description", "")}
        content = resp.get("content") or {}
        for media in content:
            if media not in produces:
                produces.append(media)
        if content:
            entry["schema"] = _refs(next(iter(content.values())).get("schema", {}))
        responses[code] = entry
    out["responses"] = responses
    if produces:
        out["produces"] = produces
    out["schemes"] = ["https"]
    return out


def build() -> JSON:
    """The Swagger 2.0 document of every served group-version."""
    paths: JSON = {}
    definitions: JSON = {}
    for group, version in openapi.served_group_versions():
        doc = openapi.build_document(group, version)
        for name, schema in (doc.get("components") or {}).get("schemas", {}).items():
            definitions[name] = _refs(schema)
        for path, item in (doc.get("paths") or {}).items():
            entry: JSON = {}
            for key, value in item.items():
                if key == "parameters":
                    entry["parameters"] = [_parameter(p) for p in value]
                elif isinstance(value, dict):
                    entry[key] = _operation(value)
            paths[path] = entry
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": openapi.KUBERNETES_VERSION},
        "paths": dict(sorted(paths.items())),
        "definitions": dict(sorted(definitions.items())),
        "securityDefinitions": {"BearerToken": {
            "description": "Bearer Token authentication", "type": "apiKey",
            "name": "authorization", "in": "header"}},
        "security": [{"BearerToken": []}],
    }


def document() -> bytes:
    """The serialised document (built on first use; call from a thread)."""
    global _cached
    with _lock:
        if _cached is None:
            _cached = orjson.dumps(build(), option=orjson.OPT_SORT_KEYS)
        return _cached
