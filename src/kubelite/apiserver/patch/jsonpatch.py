"""JSON patch (RFC 6902, ``application/json-patch+json``) with JSON pointers (RFC 6901).

Operations ``add``, ``remove``, ``replace``, ``move``, ``copy`` and ``test`` apply in order to a
copy of the document; the patch is atomic (the input is never mutated). As kube-apiserver
does, a patch that is not a list of operations is a 400 BadRequest, one with more than
10000 operations a 413, and an operation that cannot be applied (missing path, failed test)
a 422 whose message does not say which operation failed. :class:`JSONPatchError` carries that
reason for logs and tests.
"""

from __future__ import annotations

from typing import Any

import orjson

from kubelite.api import errors
from kubelite.api.meta import JSON
from kubelite.apiserver.patch.patch_errors import rejected

MAX_OPERATIONS = 10000
_OPS = ("add", "remove", "replace", "move", "copy", "test")


class JSONPatchError(Exception):
    """Why an operation could not be applied (kube answers a bare 422)."""


def parse(patch: Any) -> list[JSON]:
    """Validate the shape of a decoded patch; 400/413 as kube-apiserver answers."""
    if not isinstance(patch, list):
        raise errors.bad_request(
            f"json: cannot unmarshal {_json_kind(patch)} into Go value of type jsonpatch.Patch")
    if len(patch) > MAX_OPERATIONS:
        raise errors.too_large(
            f"The allowed maximum operations in a JSON patch is {MAX_OPERATIONS}, got "
            f"{len(patch)}")
    for op in patch:
        if not isinstance(op, dict):
            raise errors.bad_request(
                f"json: cannot unmarshal {_json_kind(op)} into Go value of type "
                "jsonpatch.operation")
    return patch


def apply(original: Any, patch: Any) -> Any:
    """``original`` with the JSON ``patch`` applied (StatusError on failure)."""
    ops = parse(patch)
    try:
        return apply_operations(original, ops)
    except JSONPatchError as e:
        raise rejected() from e


def apply_operations(original: Any, ops: list[JSON]) -> Any:
    """Apply operations to a copy of ``original``; :class:`JSONPatchError` on failure."""
    doc = orjson.loads(orjson.dumps(original))
    for op in ops:
        doc = _apply_one(doc, op)
    return doc


def _apply_one(doc: Any, op: JSON) -> Any:
    name = op.get("op")
    if name not in _OPS:
        raise JSONPatchError(f"Unexpected kind: {name}")
    path = _pointer(op, "path")
    if name == "add":
        return _add(doc, path, _value(op))
    if name == "remove":
        doc, _ = _remove(doc, path)
        return doc
    if name == "replace":
        return _replace(doc, path, _value(op))
    if name == "test":
        actual = _get(doc, path)
        if not _equal(actual, _value(op)):
            raise JSONPatchError(f"testing value {_text(path)} failed: test failed")
        return doc
    source = _pointer(op, "from")
    if name == "move":
        if path[:len(source)] == source and len(path) > len(source):
            raise JSONPatchError(f"move operation: path {_text(path)} is a child of from "
                                 f"{_text(source)}")
        doc, value = _remove(doc, source)
        return _add(doc, path, value)
    value = orjson.loads(orjson.dumps(_get(doc, source)))
    return _add(doc, path, value)


def _value(op: JSON) -> Any:
    if "value" not in op:
        raise JSONPatchError(f"{op.get('op')} operation has no value")
    return op["value"]


def _pointer(op: JSON, field: str) -> list[str]:
    raw = op.get(field)
    if not isinstance(raw, str):
        raise JSONPatchError(f"{op.get('op')} operation missing {field} string")
    return split_pointer(raw)


def split_pointer(pointer: str) -> list[str]:
    """RFC 6901 pointer to tokens (``""`` is the whole document)."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise JSONPatchError(f"JSON pointer {pointer!r} does not start with /")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _text(tokens: list[str]) -> str:
    return "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in tokens)


def _index(container: list[Any], token: str, path: list[str], *, insert: bool) -> int:
    if insert and token == "-":
        return len(container)
    if not token or not (token.isdigit() or (token[0] == "-" and token[1:].isdigit())):
        raise JSONPatchError(f"invalid array index {token!r} in {_text(path)}")
    index = int(token)
    if index < 0:
        index += len(container)
    limit = len(container) if insert else len(container) - 1
    if index < 0 or index > limit:
        raise JSONPatchError(f"Unable to access invalid index: {token} in {_text(path)}")
    return index


def _parent(doc: Any, path: list[str]) -> Any:
    node = doc
    for depth, token in enumerate(path[:-1]):
        if isinstance(node, dict):
            if token not in node:
                raise JSONPatchError(f"doc is missing path: {_text(path[:depth + 1])}")
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, path, insert=False)]
        else:
            raise JSONPatchError(f"doc is missing path: {_text(path[:depth + 1])}")
    if not isinstance(node, dict | list):
        raise JSONPatchError(f"doc is missing path: {_text(path)}")
    return node


def _get(doc: Any, path: list[str]) -> Any:
    if not path:
        return doc
    parent = _parent(doc, path)
    key = path[-1]
    if isinstance(parent, dict):
        if key not in parent:
            raise JSONPatchError(f"doc is missing key: {_text(path)}")
        return parent[key]
    return parent[_index(parent, key, path, insert=False)]


def _add(doc: Any, path: list[str], value: Any) -> Any:
    if not path:
        return value
    parent = _parent(doc, path)
    key = path[-1]
    if isinstance(parent, dict):
        parent[key] = value
    else:
        parent.insert(_index(parent, key, path, insert=True), value)
    return doc


def _remove(doc: Any, path: list[str]) -> tuple[Any, Any]:
    if not path:
        raise JSONPatchError("cannot remove the whole document")
    parent = _parent(doc, path)
    key = path[-1]
    if isinstance(parent, dict):
        if key not in parent:
            raise JSONPatchError(f"remove operation does not apply: doc is missing key: "
                                 f"{_text(path)}")
        return doc, parent.pop(key)
    return doc, parent.pop(_index(parent, key, path, insert=False))


def _replace(doc: Any, path: list[str], value: Any) -> Any:
    if not path:
        return value
    parent = _parent(doc, path)
    key = path[-1]
    if isinstance(parent, dict):
        if key not in parent:
            raise JSONPatchError(f"replace operation does not apply: doc is missing key: "
                                 f"{_text(path)}")
        parent[key] = value
    else:
        parent[_index(parent, key, path, insert=False)] = value
    return doc


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: 1 equals 1.0, but true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and bool(a == b)


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "string" if isinstance(value, str) else "null"
