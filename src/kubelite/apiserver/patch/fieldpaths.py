"""Field sets: the paths of an object's fields under its schema, and their wire form.

A field set is a set of paths; a path is a tuple of path elements written as in
``fieldsV1``: ``f:<field>``, ``k:<json of the list-map keys>``, ``v:<json of a set item>``,
``i:<index>``. :func:`to_field_set`, :func:`compare` and :func:`remove_items` walk objects
with the kind's schema (:mod:`~kubelite.apiserver.patch.fieldschema`) as
structured-merge-diff does; :func:`to_fields_v1` / :func:`from_fields_v1` are the wire form
(``.`` marks a path that is itself a member and has members below it). Inputs are never
mutated unless a docstring says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from kubelite.api.meta import JSON
from kubelite.apiserver.patch import fieldschema as fs

Path = tuple[str, ...]
Keep = Callable[[Path], bool]
"""Which paths a write may own (the others it resets)."""


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class FieldPathError(ValueError):
    """An object that has no field set under its schema (a list item without its keys,
    duplicate keys where they are not allowed), or undecodable managedFields."""


# --------------------------------------------------------------------------- elements

def field_element(name: str) -> str:
    return "f:" + name


def json_text(value: Any) -> str:
    """Compact JSON, as path elements and manager names are spelled."""
    return orjson.dumps(value).decode()


def item_element(sh: fs.Shape, item: Any, index: int) -> str:
    """The path element of a list item: ``k:`` for list-maps, ``v:`` for sets."""
    if sh.list_type == "map":
        if not isinstance(item, dict):
            raise FieldPathError(f"element {index}: associative list with keys has an element "
                                 "that is not a map")
        keys: JSON = {}
        for k in sorted(sh.keys):
            if k in item:
                keys[k] = item[k]
            elif k in sh.key_defaults:
                keys[k] = sh.key_defaults[k]
            else:
                raise FieldPathError(
                    f'element {index}: associative list with keys has an element that omits '
                    f'key field "{k}" (and doesn\'t have default value)')
        return "k:" + json_text(keys)
    if sh.list_type == "set" and not isinstance(item, dict | list):
        return "v:" + json_text(item)
    return f"i:{index}"


def _go_value(value: Any) -> str:
    if isinstance(value, str):
        return json_text(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def element_string(pe: str) -> str:
    """A path element as kube prints it in conflicts: ``.name``, ``[name="c"]``, ``[="x"]``."""
    kind, body = pe[:2], pe[2:]
    if kind == "f:":
        return "." + body
    if kind == "k:":
        keys = orjson.loads(body)
        return "[" + ",".join(f"{k}={_go_value(v)}" for k, v in keys.items()) + "]"
    if kind == "v:":
        return "[=" + _go_value(orjson.loads(body)) + "]"
    return "[" + body + "]"


def path_string(path: Path) -> str:
    """A path as kube prints it: ``.spec.template.spec.containers[name="c"].image``."""
    return "".join(element_string(pe) for pe in path)


def _element_order(pe: str) -> tuple[int, Any]:
    rank = {"f": 0, "k": 1, "v": 2, "i": 3}.get(pe[:1], 4)
    if rank == 3:
        try:
            return rank, int(pe[2:])
        except ValueError:
            return rank, 0
    return rank, pe[2:]


# --------------------------------------------------------------------------- walking

def _list_elements(sh: fs.Shape, items: list[Any]) -> list[str]:
    return [item_element(sh, item, i) for i, item in enumerate(items)]


def to_field_set(obj: Any, schema: JSON | None) -> set[Path]:
    """Every path of ``obj`` that a manager owns when it sets ``obj`` (ToFieldSet)."""
    out: set[Path] = set()
    _to_set(obj, schema, (), out)
    return out


def _to_set(value: Any, node: JSON | None, path: Path, out: set[Path]) -> None:
    sh = fs.of_value(fs.shape(node), value)
    if sh.kind in (fs.STRUCT, fs.MAP) and not sh.atomic:
        if not isinstance(value, dict):
            if path:
                out.add(path)
            return
        for k, v in value.items():
            sub = (*path, "f:" + k)
            _to_set(v, fs.child(sh, k), sub, out)
            if v is None or (isinstance(v, dict) and not v) or not fs.declared(sh, k):
                out.add(sub)
        return
    if sh.kind == fs.LIST and not sh.atomic:
        if not isinstance(value, list):
            if path:
                out.add(path)
            return
        pes = _list_elements(sh, value)
        seen: set[str] = set()
        for pe, item in zip(pes, value, strict=True):
            if pe in seen:
                raise FieldPathError(f"{path_string(path)}: duplicate entries for key "
                                     f"{element_string(pe)}")
            seen.add(pe)
            sub = (*path, pe)
            _to_set(item, sh.elem, sub, out)
            out.add(sub)
        return
    if path:
        out.add(path)


@dataclass
class Comparison:
    """Paths added, modified and removed going from one object to another."""

    added: set[Path] = field(default_factory=set)
    modified: set[Path] = field(default_factory=set)
    removed: set[Path] = field(default_factory=set)

    def filtered(self, keep: Keep) -> Comparison:
        return Comparison({p for p in self.added if keep(p)},
                          {p for p in self.modified if keep(p)},
                          {p for p in self.removed if keep(p)})


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        if isinstance(a, bool) or isinstance(b, bool):
            return False
        if isinstance(a, int | float) and isinstance(b, int | float):
            return a == b
        return False
    if isinstance(a, dict | list):
        opt = orjson.OPT_SORT_KEYS
        return orjson.dumps(a, option=opt) == orjson.dumps(b, option=opt)
    return bool(a == b)


def compare(old: Any, new: Any, schema: JSON | None) -> Comparison:
    """What changed from ``old`` to ``new`` (either may be MISSING), path by path."""
    result = Comparison()
    _compare(old, new, schema, (), result)
    return result


def _compare(lhs: Any, rhs: Any, node: JSON | None, path: Path, c: Comparison) -> None:
    sh = fs.shape(node)
    if sh.kind == fs.DEDUCED:
        sample = rhs if rhs is not MISSING else lhs
        sh = fs.of_value(sh, sample)
    leaf = True
    if sh.kind in (fs.STRUCT, fs.MAP) and not sh.atomic:
        lm = lhs if isinstance(lhs, dict) else None
        rm = rhs if isinstance(rhs, dict) else None
        bad = (lhs not in (MISSING, None) and lm is None) or (rhs not in (MISSING, None)
                                                               and rm is None)
        if (lm or rm) and not bad:
            leaf = False
            lm = lm or {}
            rm = rm or {}
            for k in {**lm, **rm}:
                _compare(lm.get(k, MISSING), rm.get(k, MISSING), fs.child(sh, k),
                         (*path, "f:" + k), c)
    elif sh.kind == fs.LIST and not sh.atomic:
        ll = lhs if isinstance(lhs, list) else None
        rl = rhs if isinstance(rhs, list) else None
        bad = (lhs not in (MISSING, None) and ll is None) or (rhs not in (MISSING, None)
                                                               and rl is None)
        if (ll or rl) and not bad:
            leaf = False
            li: dict[str, Any] = {}
            for pe, item in zip(_list_elements(sh, ll or []), ll or [], strict=True):
                li.setdefault(pe, item)
            ri: dict[str, Any] = {}
            for pe, item in zip(_list_elements(sh, rl or []), rl or [], strict=True):
                ri.setdefault(pe, item)
            for pe in {**li, **ri}:
                _compare(li.get(pe, MISSING), ri.get(pe, MISSING), sh.elem, (*path, pe), c)
    if not path:
        return
    if lhs is MISSING:
        c.added.add(path)
    elif rhs is MISSING:
        c.removed.add(path)
    elif leaf and not _same(lhs, rhs):
        c.modified.add(path)


def ensure_named(paths: Iterable[Path], schema: JSON | None) -> set[Path]:
    """``paths`` plus every prefix that ends in a declared struct field."""
    out = set(paths)
    done: set[Path] = set()
    for p in list(out):
        node = schema
        for i, pe in enumerate(p[:-1]):
            prefix = p[:i + 1]
            sh = fs.shape(node)
            if pe.startswith("f:"):
                name = pe[2:]
                if prefix not in done and fs.declared(sh, name):
                    out.add(prefix)
                node = fs.child(sh, name)
            else:
                node = sh.elem if sh.kind == fs.LIST else None
            done.add(prefix)
    return out


# --------------------------------------------------------------------------- tries

@dataclass
class _Node:
    member: bool = False
    children: dict[str, _Node] = field(default_factory=dict)


def _trie(paths: Iterable[Path]) -> _Node:
    root = _Node()
    for p in paths:
        node = root
        for pe in p:
            node = node.children.setdefault(pe, _Node())
        node.member = True
    return root


def remove_items(obj: Any, paths: Iterable[Path], schema: JSON | None) -> Any:
    """``obj`` without the fields and list items in ``paths`` (a copy where it changes).

    A map or list whose entries were all removed disappears from its parent.
    """
    result = _remove(obj, _trie(paths), schema)
    return {} if result is MISSING else result


def _remove(value: Any, trie: _Node, node: JSON | None) -> Any:
    if not trie.children:
        return value
    sh = fs.of_value(fs.shape(node), value)
    if sh.atomic:
        return value
    if isinstance(value, dict) and sh.kind in (fs.STRUCT, fs.MAP):
        out: JSON = {}
        removed = False
        for k, v in value.items():
            sub = trie.children.get("f:" + k)
            if sub is None:
                out[k] = v
            elif sub.member:
                removed = True
            else:
                nv = _remove(v, sub, fs.child(sh, k))
                if nv is not MISSING:
                    out[k] = nv
        return MISSING if removed and not out else out
    if isinstance(value, list) and sh.kind == fs.LIST:
        items: list[Any] = []
        removed = False
        for pe, item in zip(_list_elements(sh, value), value, strict=True):
            sub = trie.children.get(pe)
            if sub is None:
                items.append(item)
            elif sub.member:
                removed = True
            else:
                ni = _remove(item, sub, sh.elem)
                if ni is not MISSING:
                    items.append(ni)
        return MISSING if removed and not items else items
    return value


# --------------------------------------------------------------------------- wire form

def to_fields_v1(paths: Iterable[Path]) -> JSON:
    """The ``fieldsV1`` document of a set."""
    return _emit(_trie(paths))


def _emit(node: _Node) -> JSON:
    out: JSON = {}
    for pe in sorted(node.children, key=_element_order):
        child = node.children[pe]
        if child.children:
            body: JSON = {".": {}} if child.member else {}
            body.update(_emit(child))
            out[pe] = body
        else:
            out[pe] = {}
    return out


_ELEMENT = re.compile(r"^(f:|k:|v:|i:)")


def from_fields_v1(doc: Any) -> set[Path]:
    """The set a ``fieldsV1`` document describes; FieldPathError when malformed."""
    if not isinstance(doc, dict):
        raise FieldPathError("expected an object")
    out: set[Path] = set()
    _parse(doc, (), out)
    return out


def _parse(doc: JSON, path: Path, out: set[Path]) -> None:
    for key, sub in doc.items():
        if key == ".":
            if path:
                out.add(path)
            continue
        if not _ELEMENT.match(key):
            raise FieldPathError(f"parsing JSON: unknown path element {key!r}")
        if not isinstance(sub, dict):
            raise FieldPathError(f"parsing JSON: expected an object at {key!r}")
        child = (*path, key)
        if sub:
            _parse(sub, child, out)
        else:
            out.add(child)


def iterate(paths: Iterable[Path]) -> Iterator[Path]:
    """Paths in the order kube lists them: each level's members, then deeper ones."""
    def walk(node: _Node, prefix: Path) -> Iterator[Path]:
        order = sorted(node.children, key=_element_order)
        for pe in order:
            if node.children[pe].member:
                yield (*prefix, pe)
        for pe in order:
            yield from walk(node.children[pe], (*prefix, pe))
    yield from walk(_trie(paths), ())

