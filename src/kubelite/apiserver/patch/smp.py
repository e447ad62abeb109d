"""Strategic merge patch (``application/strategic-merge-patch+json``), applied server-side.

:func:`apply` merges a patch into an object the way kube-apiserver does (apimachinery
``strategicpatch``), with the patch metadata of the kind's OpenAPI schema
(:func:`kubelite.apiserver.openapi.openapi.schema_for`):

- maps merge key by key; ``null`` deletes a key; a field with strategy ``replace`` is replaced;
- lists of objects with strategy ``merge`` merge item by item on ``x-kubernetes-patch-merge-key``;
  lists of scalars with ``merge`` are unioned; every other list is replaced;
- directives: ``$patch: replace|delete`` in a map, ``$patch: delete|replace`` items in a merging
  list, ``$retainKeys``, ``$setElementOrder/<list>`` and ``$deleteFromPrimitiveList/<list>``;
- the order of a merged list is: the order the patch asks for (``$setElementOrder`` or its own
  order), with items only the server has kept in their live order around them.

Fields the schema does not know have no strategy (maps merge, lists are replaced). Errors are
:class:`~kubelite.api.errors.StatusError` with kube's codes: 400 for malformed directives, 422
for lists of lists and ``$retainKeys`` mismatches, 500 (reason empty) for the rest, as kube's
patch handler passes those through. Inputs are never mutated.
"""

from __future__ import annotations

from typing import Any

import orjson

from kubelite.api import errors
from kubelite.api.meta import JSON
from kubelite.apiserver.patch.patch_errors import rejected

DIRECTIVE = "$patch"
RETAIN_KEYS = "$retainKeys"
SET_ELEMENT_ORDER = "$setElementOrder"
DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList"

_BAD_PRIMITIVE_LIST = "invalid patch format of primitive list"
_BAD_RETAIN_KEYS = "invalid patch format of retainKeys"
_BAD_SET_ORDER = "invalid patch format of setElementOrder list"


def apply(original: JSON, patch: Any, schema: JSON | None) -> JSON:
    """``original`` with the strategic merge ``patch`` applied; ``schema`` is resolved."""
    if not isinstance(patch, dict):
        raise errors.bad_request(
            f"json: cannot unmarshal {_go_kind(patch)} into Go value of type "
            "map[string]interface {}")
    doc = orjson.loads(orjson.dumps(original))
    work = orjson.loads(orjson.dumps(patch))
    return _merge_map(doc, work, schema)


# --------------------------------------------------------------------------- errors

def _generic(message: str) -> errors.StatusError:
    return errors.StatusError(500, "", message)


def _invalid(message: str) -> errors.StatusError:
    """kube's generic 422: the underlying ``message`` does not reach the client."""
    del message
    return rejected()


def _go_kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object" if isinstance(value, dict) else "null"


def _go(value: Any) -> str:
    """A value printed roughly as Go's ``%v`` prints decoded JSON."""
    if isinstance(value, dict):
        inner = " ".join(f"{k}:{_go(v)}" for k, v in sorted(value.items()))
        return f"map[{inner}]"
    if isinstance(value, list):
        return "[" + " ".join(_go(v) for v in value) + "]"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _no_merge_key(item: Any, key: str) -> errors.StatusError:
    return _generic(f"map: {_go(item)} does not contain declared merge key: {key}")


# --------------------------------------------------------------------------- schema

def _kind(value: Any) -> str:
    """Go's dynamic type of a decoded JSON value: numbers are all float64."""
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "slice"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "string" if isinstance(value, str) else "nil"


def _same(a: Any, b: Any) -> bool:
    return _kind(a) == _kind(b) and a == b


def _field(schema: JSON | None, key: str) -> JSON | None:
    if schema is None:
        return None
    props = schema.get("properties")
    if isinstance(props, dict) and key in props:
        field: JSON = props[key]
        return field
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, dict) else None


def _strategy(field: JSON | None) -> str:
    """The field's strategy with ``retainKeys`` taken out (``merge``, ``replace`` or "")."""
    if field is None:
        return ""
    raw = field.get("x-kubernetes-patch-strategy", "")
    parts = [p for p in str(raw).split(",") if p]
    others = [p for p in parts if p != "retainKeys"]
    if len(others) > 1 or len(parts) > 2:
        raise _generic(f"unexpected patch strategy: {parts}")
    return others[0] if others else ""


def _merge_key(field: JSON | None) -> str:
    return str(field.get("x-kubernetes-patch-merge-key", "")) if field else ""


def _items(field: JSON | None) -> JSON | None:
    items = field.get("items") if field else None
    return items if isinstance(items, dict) else None


def _list_key(key: str, prefix: str, error: str) -> str:
    head, sep, tail = key.partition("/")
    if not sep or head != prefix:
        raise errors.bad_request(error)
    return tail


# --------------------------------------------------------------------------- maps

def _merge_map(original: JSON | None, patch: JSON, schema: JSON | None) -> JSON:
    if DIRECTIVE in patch:
        directive = patch[DIRECTIVE]
        if directive == "replace":
            del patch[DIRECTIVE]
            return patch
        if directive == "delete":
            return {}
        raise _generic(f"unknown patch type: {directive} in map: {_go(patch)}")
    if original is None:
        original = {}
    _retain_keys(original, patch)
    _set_element_orders(original, patch, schema)

    for key, value in list(patch.items()):
        delete_list = False
        if key.startswith(DELETE_FROM_PRIMITIVE_LIST):
            key = _list_key(key, DELETE_FROM_PRIMITIVE_LIST, _BAD_PRIMITIVE_LIST)
            delete_list = True
        if value is None:
            original.pop(key, None)
            continue
        if key not in original or _kind(original[key]) != _kind(value):
            if not delete_list:
                _discard_nulls(value)
                kept, keep = _remove_directives(value)
                if keep:
                    original[key] = kept
                else:
                    original.pop(key, None)
            continue
        field = _field(schema, key)
        current = original[key]
        if isinstance(current, dict):
            if _strategy(field) == "replace":
                original[key] = value
            else:
                original[key] = _merge_map(current, value, field)
        elif isinstance(current, list):
            original[key] = _merge_list_field(current, value, field, delete_list)
        else:
            kept, keep = _remove_directives(value)
            if keep:
                original[key] = kept
            else:
                original.pop(key, None)
    return original


def _merge_list_field(current: list[Any], value: list[Any], field: JSON | None,
                      delete_list: bool) -> list[Any]:
    if _strategy(field) == "merge" or delete_list:
        return _merge_list(current, value, _items(field), _merge_key(field), delete_list)
    return value


def _retain_keys(original: JSON, patch: JSON) -> None:
    if RETAIN_KEYS not in patch:
        return
    keys = patch.pop(RETAIN_KEYS)
    if not isinstance(keys, list):
        raise errors.bad_request(_BAD_RETAIN_KEYS)
    allowed = {k for k in keys if isinstance(k, str)}
    for key, value in patch.items():
        if value is None or key.startswith((DELETE_FROM_PRIMITIVE_LIST, SET_ELEMENT_ORDER)):
            continue
        if key not in allowed:
            raise errors.bad_request(_BAD_RETAIN_KEYS)
    for key in [k for k in original if k not in allowed]:
        del original[key]


def _set_element_orders(original: JSON, patch: JSON, schema: JSON | None) -> None:
    for key in [k for k in patch if k.startswith(SET_ELEMENT_ORDER)]:
        order = patch.pop(key)
        if not isinstance(order, list):
            raise _generic(f"expected a []interface {{}}, but received a {_go_kind(order)}")
        name = _list_key(key, SET_ELEMENT_ORDER, _BAD_SET_ORDER)
        field = _field(schema, name)
        merge_key = _merge_key(field)
        live = original.get(name)
        wanted = patch.get(name)
        for value in (live, wanted):
            if value is not None and not isinstance(value, list):
                raise _generic(f"expected a []interface {{}}, but received a "
                               f"{_go_kind(value)}")
        _check_order(wanted or [], order, merge_key)
        if live is None and wanted is None:
            continue
        if wanted is None:
            merged: list[Any] = live or []
        elif live is None:
            kept, _ = _remove_directives(wanted)
            merged = kept
        else:
            merged = _merge_list_field(live, wanted, field, False)
        patch.pop(name, None)
        if not merged and not live:
            original[name] = merged
            continue
        elem = _element_kind([*(live or []), *(wanted or [])])
        if merge_key and elem == "map":
            in_order, server_only = _partition_maps(merged, order, merge_key)
        else:
            in_order, server_only = _partition_scalars(merged, order)
        original[name] = _normalise_order(in_order, server_only, order, live or [],
                                          merge_key, elem)


def _check_order(items: list[Any], order: list[Any], merge_key: str) -> None:
    """The patch list's items must appear in the order ``$setElementOrder`` gives."""
    if not items or not order:
        return
    if merge_key:
        items = [i for i in items if not (isinstance(i, dict) and i.get(DIRECTIVE) == "delete")]
    i = j = 0
    while i < len(items) and j < len(order):
        if isinstance(items[i], dict) and DIRECTIVE in items[i]:
            i += 1
            continue
        if _key_equal(items[i], order[j], merge_key):
            i += 1
        j += 1
    if i < len(items) and j >= len(order):
        raise _generic(f"The order in patch list:\n{_go(items)}\n doesn't match "
                       f"{SET_ELEMENT_ORDER} list:\n{_go(order)}\n")


def _key_equal(a: Any, b: Any, merge_key: str) -> bool:
    if not merge_key:
        return _same(a, b)
    for item in (a, b):
        if not isinstance(item, dict):
            raise _generic(f"expected a map[string]interface {{}}, but received a "
                           f"{_go_kind(item)}")
        if merge_key not in item:
            raise _no_merge_key(item, merge_key)
    return _same(a[merge_key], b[merge_key])


# --------------------------------------------------------------------------- lists

def _element_kind(items: list[Any]) -> str:
    kind = ""
    for item in items:
        k = _kind(item)
        if not kind:
            if k == "slice":
                raise _invalid("lists of lists are not supported")
            kind = k
        elif k != kind:
            raise _generic(f"list element types are not identical: {_go(items)}")
    if not kind:
        raise _generic("no elements in any of the given slices")
    return kind


def _merge_list(original: list[Any], patch: list[Any], schema: JSON | None, merge_key: str,
                delete_list: bool) -> list[Any]:
    if not original and not patch:
        return original
    elem = _element_kind([*original, *patch])
    if elem != "map":
        if delete_list:
            return [v for v in original if not any(_same(v, d) for d in patch)]
        union: list[Any] = []
        for value in [*original, *patch]:
            if not any(_same(value, m) for m in union):
                union.append(value)
        in_patch, server_only = _partition_scalars(union, patch)
        return _normalise_order(in_patch, server_only, patch, original, "", elem)
    if not merge_key:
        raise _generic("cannot merge lists without merge key for "
                       f"{(schema or {}).get('description', 'the list')[:40]}")
    base, patch = _special_items(original, patch, merge_key)
    merged = list(base)
    for item in patch:
        if merge_key not in item:
            raise _no_merge_key(item, merge_key)
        index = _find(merged, merge_key, item[merge_key])
        if index is None:
            merged.append(item)
        else:
            merged[index] = _merge_map(merged[index], item, schema)
    # the live order is that of the list before the patch's new items were added
    in_patch, server_only = _partition_maps(merged, patch, merge_key)
    return _normalise_order(in_patch, server_only, patch, base, merge_key, elem)


def _special_items(original: list[Any], patch: list[Any],
                   merge_key: str) -> tuple[list[Any], list[Any]]:
    """Apply ``$patch`` items of a merging list; return the list and the plain patch items."""
    plain: list[Any] = []
    replace = False
    for item in patch:
        if DIRECTIVE not in item:
            plain.append(item)
            continue
        directive = item[DIRECTIVE]
        if directive == "delete":
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
            original = [o for o in original
                        if not (isinstance(o, dict) and merge_key in o
                                and _same(o[merge_key], item[merge_key]))]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise _generic("merging lists cannot yet be specified in the patch")
        else:
            raise _generic(f"unknown patch type: {directive} in map: {_go(item)}")
    if replace:
        return plain, []
    return original, plain


def _find(items: list[Any], key: str, value: Any) -> int | None:
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise _generic(f"value for key {index} is not a map")
        if key in item and _same(item[key], value):
            return index
    return None


def _partition_scalars(items: list[Any], by: list[Any]) -> tuple[list[Any], list[Any]]:
    inside = [v for v in items if any(_same(v, b) for b in by)]
    outside = [v for v in items if not any(_same(v, b) for b in by)]
    return inside, outside


def _partition_maps(items: list[Any], by: list[Any],
                    merge_key: str) -> tuple[list[Any], list[Any]]:
    inside: list[Any] = []
    outside: list[Any] = []
    for item in items:
        if merge_key not in item:
            raise _no_merge_key(item, merge_key)
        found = any(isinstance(b, dict) and merge_key in b and _same(b[merge_key],
                                                                     item[merge_key])
                    for b in by)
        (inside if found else outside).append(item)
    return inside, outside


def _index(order: list[Any], item: Any, merge_key: str, elem: str) -> int:
    probe = item.get(merge_key) if elem == "map" and isinstance(item, dict) else item
    for i, candidate in enumerate(order):
        value = (candidate.get(merge_key) if elem == "map" and isinstance(candidate, dict)
                 else candidate)
        if _same(value, probe):
            return i
    return -1


def _sort_by(items: list[Any], order: list[Any], merge_key: str, elem: str) -> list[Any]:
    deleted: list[Any] = []
    if elem == "map":
        for item in [*items, *order]:
            if not isinstance(item, dict) or merge_key not in item:
                raise _no_merge_key(item, merge_key)
        deleted = [i for i in items if i.get(DIRECTIVE) == "delete"]
        items = [i for i in items if i.get(DIRECTIVE) != "delete"]
    known = [i for i in items if _index(order, i, merge_key, elem) >= 0]
    unknown = [i for i in items if _index(order, i, merge_key, elem) < 0]
    known.sort(key=lambda i: _index(order, i, merge_key, elem))
    return [*known, *unknown, *deleted]


def _normalise_order(in_patch: list[Any], server_only: list[Any], patch_order: list[Any],
                     server_order: list[Any], merge_key: str, elem: str) -> list[Any]:
    """Patch items in patch order, server-only items in live order, interleaved by live order."""
    right = _sort_by(in_patch, patch_order, merge_key, elem)
    left = _sort_by(server_only, server_order, merge_key, elem)
    out: list[Any] = []
    i = j = 0
    while i < len(left) or j < len(right):
        if i >= len(left):
            out.append(right[j])
            j += 1
        elif j >= len(right):
            out.append(left[i])
            i += 1
        else:
            li = _index(server_order, left[i], merge_key, elem)
            ri = _index(server_order, right[j], merge_key, elem)
            if li >= 0 and ri >= 0 and li < ri:
                out.append(left[i])
                i += 1
            else:
                out.append(right[j])
                j += 1
    return out


# --------------------------------------------------------------------------- helpers

def _remove_directives(value: Any) -> tuple[Any, bool]:
    """``value`` without ``$patch`` maps; False if ``value`` itself is one."""
    if isinstance(value, dict):
        if DIRECTIVE in value:
            return None, False
        for key in list(value):
            kept, keep = _remove_directives(value[key])
            if keep:
                value[key] = kept
            else:
                del value[key]
        return value, True
    if isinstance(value, list):
        out = []
        for item in value:
            kept, keep = _remove_directives(item)
            if keep:
                out.append(kept)
        return out, True
    return value, True


def _discard_nulls(value: Any) -> None:
    if isinstance(value, dict):
        for key in [k for k, v in value.items() if v is None]:
            del value[key]
        for v in value.values():
            _discard_nulls(v)
    elif isinstance(value, list):
        for v in value:
            _discard_nulls(v)
