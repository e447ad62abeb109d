"""Typed decoding of built-in kinds: a JSON document checked and cleaned against the kind's
OpenAPI schema, as kube-apiserver's decoding into Go structs checks and cleans it.

:func:`decode` walks a document beside the 1.32 definitions and returns a new document in
which

- every value has its schema's JSON type, or a 400 :class:`~kubelite.api.errors.StatusError`
  says which, in Go's words (``json: cannot unmarshal number into Go struct field
  ObjectMeta.metadata.name of type string``); an int64 field out of range and a non-integral
  number in an integer field are 400s too (``cannot unmarshal number 1.5 into ...``);
- int32 fields out of range are collected as 422 causes
  (``spec.replicas: Invalid value: 1099511627776: must be between ...``), raised after the walk;
- ``format: byte`` strings are base64 (``illegal base64 data at input byte 4``);
- fields the schema does not know are dropped and named (``spec.containers[0].foo``), unless
  the schema preserves unknown fields; ``fieldValidation=Strict`` makes them a 400
  (``strict decoding error: unknown field "spec.foo"``), ``Warn`` returns them as warnings;
- a ``null`` struct field is dropped, a ``null`` map value or list item of a scalar type
  becomes the type's zero value (what Go's decoder leaves in a typed object).

The input is never mutated; nodes with no schema (``RawExtension``, preserve-unknown-fields)
are shared with the result. Nesting is bounded on the way (at most :data:`MAX_DEPTH`
containers, schema-less subtrees by :func:`check_depth`), so the walk's recursion is too;
dropped unknown fields are not walked. Compiled schemas are cached per definition name.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from kubelite.api import errors
from kubelite.api.nesting import MAX_DEPTH, check_depth, depth_error
from kubelite.apiserver.openapi import openapi

JSON = dict[str, Any]

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
_ALPHABET = re.compile(rb"[^A-Za-z0-9+/=\r\n]")
_QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")


# --------------------------------------------------------------------------- compiled schemas

@dataclass(eq=False)
class _Node:
    """One compiled schema node: ``kind`` is any, string, bytes, time, integer, number,
    boolean, intorstring, quantity, struct, map or list; ``gotype`` names it in Go."""

    kind: str
    gotype: str
    bits: int = 64
    name: str = ""  # struct: its Go name (``Container``)
    fields: dict[str, _Node] = field(default_factory=dict)
    elem: _Node | None = None
    preserve: bool = False


_ANY = _Node("any", "interface {}")
_compiled: dict[str, _Node] = {}

_SCALARS = {"string": "string", "number": "float64", "boolean": "bool"}


def _gotype(name: str) -> str:
    parts = name.split(".")
    return ".".join(parts[-2:]) if len(parts) >= 2 else name


def _compile_def(name: str) -> _Node:
    hit = _compiled.get(name)
    if hit is not None:
        return hit
    schema = openapi.definitions().get(name)
    if schema is None:
        return _ANY
    if name.endswith(".Quantity"):
        node = _Node("quantity", _gotype(name))
    elif schema.get("format") == "int-or-string":
        node = _Node("intorstring", _gotype(name))
    elif isinstance(schema.get("properties"), dict):
        node = _Node("struct", _gotype(name), name=name.rsplit(".", 1)[-1],
                     preserve=bool(schema.get("x-kubernetes-preserve-unknown-fields")))
        _compiled[name] = node  # before the fields: recursive types refer to themselves
        for key, sub in schema["properties"].items():
            node.fields[key] = _compile(sub)
        return node
    else:
        node = _compile(schema)
        if node.kind in ("time",):
            node = _Node(node.kind, _gotype(name))
    _compiled[name] = node
    return node


def _compile(schema: JSON) -> _Node:
    ref = openapi.ref_name(schema)
    if ref is not None:
        return _compile_def(ref)
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return _ANY
    kind = schema.get("type")
    fmt = schema.get("format")
    if kind == "array":
        items = schema.get("items")
        elem = _compile(items) if isinstance(items, dict) else _ANY
        return _Node("list", "[]" + elem.gotype, elem=elem)
    if kind == "string":
        if fmt == "byte":
            return _Node("bytes", "[]uint8")
        if fmt == "date-time":
            return _Node("time", "string")
        if fmt == "int-or-string":
            return _Node("intorstring", "intstr.IntOrString")
        return _Node("string", "string")
    if kind == "integer":
        bits = 32 if fmt == "int32" else 64
        return _Node("integer", f"int{bits}", bits=bits)
    if kind in _SCALARS:
        return _Node(str(kind), _SCALARS[str(kind)])
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        elem = _compile(extra)
        return _Node("map", "map[string]" + elem.gotype, elem=elem)
    return _ANY


def compiled(group: str, version: str, kind: str) -> _Node | None:
    """The compiled schema of a kind, or None when it has none (custom resources)."""
    name = openapi.schema_name(group, version, kind)
    return None if name is None else _compile_def(name)


# --------------------------------------------------------------------------- decoding

def json_type(value: Any) -> str:
    """The JSON type of a value in Go's unmarshal errors (``number``, ``array``, ...)."""
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    return "null" if value is None else "object"


class _Decoder:
    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.unknown: list[str] = []
        self.causes: list[errors.Cause] = []

    def fail(self, value: Any, node: _Node, struct: str, gopath: tuple[str, ...],
             number: bool = False) -> errors.StatusError:
        what = json_type(value)
        if number:
            shown = int(value) if isinstance(value, float) and value.is_integer() else value
            what = f"number {shown}"
        where = (f"Go struct field {struct}.{'.'.join(gopath)}" if struct and gopath
                 else "Go value")
        return errors.bad_request(f"json: cannot unmarshal {what} into {where} of type "
                                  f"{node.gotype}")

    def value(self, value: Any, node: _Node, struct: str, gopath: tuple[str, ...],
              path: str, depth: int) -> Any:
        k = node.kind
        if k == "any":
            if isinstance(value, dict | list):
                check_depth(value, MAX_DEPTH - depth + 1)
            return value
        if k in ("struct", "map", "list") and depth > MAX_DEPTH:
            raise errors.bad_request(depth_error("json", MAX_DEPTH))
        if k == "struct":
            if not isinstance(value, dict):
                raise self.fail(value, node, struct, gopath)
            return self.struct(value, node, gopath, path, depth)
        if k == "map":
            if not isinstance(value, dict):
                raise self.fail(value, node, struct, gopath)
            assert node.elem is not None
            return {key: self.item(v, node.elem, struct, gopath,
                                   f"{path}[{key}]" if path else key, depth + 1)
                    for key, v in value.items()}
        if k == "list":
            if not isinstance(value, list):
                raise self.fail(value, node, struct, gopath)
            assert node.elem is not None
            return [self.item(v, node.elem, struct, gopath, f"{path}[{i}]", depth + 1)
                    for i, v in enumerate(value)]
        return self.scalar(value, node, struct, gopath, path)

    def item(self, value: Any, node: _Node, struct: str, gopath: tuple[str, ...],
             path: str, depth: int) -> Any:
        if value is None:
            return _zero(node)
        return self.value(value, node, struct, gopath, path, depth)

    def struct(self, value: JSON, node: _Node, gopath: tuple[str, ...], path: str,
               depth: int) -> JSON:
        out: JSON = {}
        for key, sub in value.items():
            child = node.fields.get(key)
            where = f"{path}.{key}" if path else key
            if child is None:
                if node.preserve:
                    if isinstance(sub, dict | list):
                        check_depth(sub, MAX_DEPTH - depth)
                    out[key] = sub
                else:
                    self.unknown.append(where)
                continue
            if sub is None:
                continue
            out[key] = self.value(sub, child, node.name, (*gopath, key), where, depth + 1)
        return out

    def scalar(self, value: Any, node: _Node, struct: str, gopath: tuple[str, ...],
               path: str) -> Any:
        k = node.kind
        if k in ("string", "time"):
            if not isinstance(value, str):
                raise self.fail(value, node, struct, gopath)
            return value
        if k == "bytes":
            if not isinstance(value, str):
                raise self.fail(value, node, struct, gopath)
            _check_base64(value)
            return value
        if k == "boolean":
            if not isinstance(value, bool):
                raise self.fail(value, node, struct, gopath)
            return value
        if k == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self.fail(value, node, struct, gopath)
            return value
        if k == "integer":
            return self.integer(value, node, struct, gopath, path)
        if k == "intorstring":
            if isinstance(value, str):
                return value
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise errors.bad_request(f"json: cannot unmarshal {json_type(value)} into "
                                         "Go value of type int32")
            return self.integer(value, _Node("integer", "int32", bits=32), struct, gopath,
                                path)
        if k == "quantity":
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise self.fail(value, node, struct, gopath)
            text = value if isinstance(value, str) else orjson.dumps(value).decode()
            if not _QUANTITY.match(text):
                raise errors.bad_request(
                    "quantities must match the regular expression "
                    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
            return value
        return value

    def integer(self, value: Any, node: _Node, struct: str, gopath: tuple[str, ...],
                path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(value, node, struct, gopath)
        if isinstance(value, float):
            if not math.isfinite(value) or not value.is_integer():
                raise self.fail(value, node, struct, gopath, number=True)
            value = int(value)
        if not INT64[0] <= value <= INT64[1]:
            raise self.fail(value, node, struct, gopath, number=True)
        if node.bits == 32 and not INT32[0] <= value <= INT32[1]:
            self.causes.append(errors.Cause(
                "FieldValueInvalid",
                f"Invalid value: {value}: must be between {INT32[0]} and {INT32[1]}, "
                "inclusive", path))
        return int(value)


def _zero(node: _Node) -> Any:
    return {"string": "", "time": None, "bytes": "", "integer": 0, "number": 0,
            "boolean": False, "struct": {}}.get(node.kind)


def _check_base64(text: str) -> None:
    raw = text.encode()
    bad = _ALPHABET.search(raw)
    if bad is not None:
        raise errors.bad_request(f"illegal base64 data at input byte {bad.start()}")
    stripped = raw.replace(b"\r", b"").replace(b"\n", b"")
    try:
        base64.b64decode(stripped, validate=True)
    except (binascii.Error, ValueError):
        at = len(stripped) - len(stripped) % 4 if len(stripped) % 4 else len(stripped) - 1
        raise errors.bad_request(f"illegal base64 data at input byte {max(at, 0)}") from None


@dataclass(frozen=True)
class Decoded:
    """A typed-decoded document and the paths of the unknown fields dropped from it."""

    obj: JSON
    unknown: tuple[str, ...]

    def warnings(self) -> list[str]:
        return [f'unknown field "{p}"' for p in self.unknown]


def decode(obj: JSON, group: str, version: str, kind: str, *, strict: bool = False,
           prefix: bool = False) -> Decoded:
    """``obj`` decoded as group/version/kind (see the module contract).

    ``prefix`` adds kube's create/update wording to type errors (``Pod in version "v1"
    cannot be handled as a Pod: ...``). A kind without a schema comes back unchanged.
    """
    node = compiled(group, version, kind)
    if node is None:
        return Decoded(obj, ())
    dec = _Decoder(strict)
    try:
        out = dec.struct(obj, node, (), "", 1)
    except errors.StatusError as exc:
        if prefix and exc.code == 400:
            exc.message = f'{kind} in version "{version}" cannot be handled as a {kind}: ' \
                          + exc.message
            exc.args = (exc.message,)
        raise
    if dec.unknown and strict:
        raise errors.bad_request("strict decoding error: " + ", ".join(
            f'unknown field "{p}"' for p in dec.unknown))
    if dec.causes:
        name = str((out.get("metadata") or {}).get("name") or "")
        raise errors.invalid(kind, name, dec.causes, group)
    return Decoded(out, tuple(dec.unknown))
