"""OpenAPI v3 documents as kube-apiserver 1.32 serves them (``/openapi/v3``).

A document is the paths of one served group-version (:mod:`~.paths`) with the closure of
the schemas they refer to (:mod:`~.definitions`, whose lookup functions such as
:func:`schema_for` are re-exported here for callers).

Contracts:
- :func:`root` is the body of ``GET /openapi/v3``; its ``serverRelativeURL`` values carry the
  hash of each document, so a changed document gets a new URL (clients cache them forever).
- :func:`document` is the body of ``GET /openapi/v3/<gv path>``; it is built on first use,
  serialised once (sorted keys, so bytes and hash are stable) and then served from memory.
- :func:`schema_for` gives the schema of a kind with every reference resolved, for
  validation and strategic merge patch. Resolved schemas share sub-trees: never mutate them.

Loading the definitions and building all documents takes about 20 ms of CPU (see
``bench/bench_openapi.py``); call :func:`warm` at start-up, from a thread, so that no request
pays for it on the event loop.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from typing import Any

import orjson

from kubelite.api import scheme
from kubelite.api.meta import JSON
from kubelite.apiserver.openapi.definitions import KUBERNETES_VERSION as KUBERNETES_VERSION
from kubelite.apiserver.openapi.definitions import PATCH_CONTENT_TYPES as PATCH_CONTENT_TYPES
from kubelite.apiserver.openapi.definitions import REF_PREFIX as REF_PREFIX
from kubelite.apiserver.openapi.definitions import OpenAPIError as OpenAPIError
from kubelite.apiserver.openapi.definitions import definitions as definitions
from kubelite.apiserver.openapi.definitions import ref_name as ref_name
from kubelite.apiserver.openapi.definitions import resolve as resolve
from kubelite.apiserver.openapi.definitions import resolved_schema as resolved_schema
from kubelite.apiserver.openapi.definitions import schema_for as schema_for
from kubelite.apiserver.openapi.definitions import schema_name as schema_name
from kubelite.apiserver.openapi.paths import PathBuilder, gv_path

# --------------------------------------------------------------------------- documents

def served_group_versions() -> list[tuple[str, str]]:
    """The group-versions kubelite serves, core first, in discovery order."""
    out: list[tuple[str, str]] = []
    for group in scheme.groups():
        for version in scheme.versions_of(group):
            out.append((group, version))
    return out


def _closure(roots: Iterable[str]) -> dict[str, JSON]:
    defs = definitions()
    seen: dict[str, JSON] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        schema = defs.get(name)
        if schema is None:
            raise OpenAPIError(f"unresolvable reference to {name}")
        seen[name] = schema
        todo.extend(_refs(schema))
    return dict(sorted(seen.items()))


def _refs(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            yield ref[len(REF_PREFIX):]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def build_document(group: str, version: str) -> JSON:
    """The OpenAPI 3.0 document of one served group-version (not cached)."""
    resources = scheme.resources_in(group, version)
    if not resources:
        raise OpenAPIError(f"kubelite does not serve {gv_path(group, version)}")
    paths = PathBuilder(group, version)
    for res in resources:
        paths.resource(res)
    return {
        "components": {"schemas": _closure(paths.roots)},
        "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION},
        "openapi": "3.0.0",
        "paths": dict(sorted(paths.paths.items())),
    }


def _hash(body: bytes) -> str:
    return hashlib.sha512(body).hexdigest().upper()


class _Cache:
    """Serialised documents and their hashes, built once per process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.docs: dict[str, tuple[bytes, str]] = {}
        self.root: bytes | None = None

    def document(self, path: str) -> tuple[bytes, str]:
        with self.lock:
            hit = self.docs.get(path)
            if hit is not None:
                return hit
            for group, version in served_group_versions():
                if gv_path(group, version) == path:
                    body = orjson.dumps(build_document(group, version),
                                        option=orjson.OPT_SORT_KEYS)
                    self.docs[path] = (body, _hash(body))
                    return self.docs[path]
        raise KeyError(path)


_CACHE = _Cache()


def document(path: str) -> bytes:
    """The serialised document for a key of :func:`root` (``api/v1``); KeyError if none."""
    return _CACHE.document(path)[0]


def document_hash(path: str) -> str:
    """The upper-case hex SHA-512 of :func:`document`, as kube puts in ``?hash=``."""
    return _CACHE.document(path)[1]


def root() -> bytes:
    """The body of ``GET /openapi/v3``."""
    if _CACHE.root is None:
        paths = {}
        for group, version in served_group_versions():
            key = gv_path(group, version)
            paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={document_hash(key)}"}
        _CACHE.root = orjson.dumps({"paths": paths})
    return _CACHE.root


def warm() -> None:
    """Build every document now (slow: run it in a thread)."""
    root()
