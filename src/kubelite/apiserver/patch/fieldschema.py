"""How server-side apply sees a schema node: scalar, struct, map or list, atomic or granular.

Field ownership (:mod:`~kubelite.apiserver.patch.managedfields`) and apply
(:mod:`~kubelite.apiserver.patch.apply`) walk objects with the kind's resolved OpenAPI
schema (:func:`kubelite.apiserver.openapi.openapi.schema_for`) the way structured-merge-diff
walks its typed schema:

- structs (``properties``) and string maps (``additionalProperties``) are granular unless
  ``x-kubernetes-map-type: atomic``;
- lists are atomic unless ``x-kubernetes-list-type`` is ``set`` (items keyed by value) or
  ``map`` (items keyed by ``x-kubernetes-list-map-keys``);
- a node without a schema is *deduced* from its value: maps are granular with deduced
  entries, lists are atomic, anything else is a scalar.

Shapes are cached per schema node; schema nodes are never mutated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubelite.api.meta import JSON

SCALAR = "scalar"
STRUCT = "struct"
MAP = "map"
LIST = "list"
DEDUCED = "deduced"

# Defaults of list-map key fields that Kubernetes types declare (``+default``) but that the
# shipped definitions do not carry.
_KEY_DEFAULTS = {"protocol": "TCP"}


@dataclass(frozen=True)
class Shape:
    """One schema node as apply sees it.

    ``kind`` is one of SCALAR, STRUCT, MAP, LIST, DEDUCED. For lists ``list_type`` is
    ``atomic``, ``set`` or ``map`` and ``keys`` the list-map keys; ``elem`` is the schema of
    list items or map values; ``fields`` the declared struct fields.
    """

    kind: str
    atomic: bool = False
    fields: JSON = field(default_factory=dict)
    elem: JSON | None = None
    list_type: str = "atomic"
    keys: tuple[str, ...] = ()
    key_defaults: JSON = field(default_factory=dict)


_DEDUCED = Shape(DEDUCED)
_SCALAR = Shape(SCALAR)
_cache: dict[int, tuple[JSON, Shape]] = {}


def shape(node: JSON | None) -> Shape:
    """The shape of a schema node; None (no schema) is deduced."""
    if node is None:
        return _DEDUCED
    hit = _cache.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]
    result = _classify(node)
    _cache[id(node)] = (node, result)
    return result


def _classify(node: JSON) -> Shape:
    kind = node.get("type")
    if node.get("format") == "int-or-string" or node.get("x-kubernetes-int-or-string"):
        return _SCALAR
    if kind == "array":
        items = node.get("items")
        elem = items if isinstance(items, dict) else None
        list_type = str(node.get("x-kubernetes-list-type") or "atomic")
        if list_type == "map":
            keys = tuple(str(k) for k in node.get("x-kubernetes-list-map-keys") or ())
            if not keys:
                list_type = "atomic"
            props = (elem or {}).get("properties") or {}
            defaults: JSON = {}
            for k in keys:
                prop = props.get(k) or {}
                if "default" in prop:
                    defaults[k] = prop["default"]
                elif k in _KEY_DEFAULTS:
                    defaults[k] = _KEY_DEFAULTS[k]
            return Shape(LIST, atomic=list_type == "atomic", elem=elem, list_type=list_type,
                         keys=keys, key_defaults=defaults)
        if list_type not in ("set", "atomic"):
            list_type = "atomic"
        return Shape(LIST, atomic=list_type == "atomic", elem=elem, list_type=list_type)
    atomic = node.get("x-kubernetes-map-type") == "atomic"
    props = node.get("properties")
    if isinstance(props, dict) and props:
        extra = node.get("additionalProperties")
        return Shape(STRUCT, atomic=atomic, fields=props,
                     elem=extra if isinstance(extra, dict) else None)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        return Shape(MAP, atomic=atomic, elem=extra)
    if kind in ("string", "integer", "number", "boolean"):
        return _SCALAR
    if atomic:
        return Shape(MAP, atomic=True)
    return _DEDUCED


def of_value(sh: Shape, value: Any) -> Shape:
    """A deduced shape made concrete by the value it describes."""
    if sh.kind != DEDUCED:
        return sh
    if isinstance(value, dict):
        return Shape(MAP)
    if isinstance(value, list):
        return Shape(LIST, atomic=True)
    return _SCALAR


def child(sh: Shape, key: str) -> JSON | None:
    """The schema of a map entry or struct field (None: not declared, so deduced)."""
    if sh.kind == STRUCT:
        found = sh.fields.get(key)
        return found if isinstance(found, dict) else sh.elem
    if sh.kind == MAP:
        return sh.elem
    return None


def declared(sh: Shape, key: str) -> bool:
    """Whether ``key`` is a named field of a struct (not a map entry)."""
    return sh.kind == STRUCT and key in sh.fields
