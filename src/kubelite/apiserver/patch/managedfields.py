"""Field ownership: the sets of ``metadata.managedFields`` and how writes change them.

A field set is a set of paths; a path is a tuple of path elements written as in
``fieldsV1``: ``f:<field>``, ``k:<json of the list-map keys>``, ``v:<json of a set item>``,
``i:<index>``. :func:`to_field_set`, :func:`compare` and :func:`remove_items` walk objects
with the kind's schema (:mod:`~kubelite.apiserver.patch.fieldschema`) as structured-merge-diff does;
:func:`to_fields_v1` / :func:`from_fields_v1` are the wire form (``.`` marks a path that is
itself a member and has members below it).

:func:`decode` / :func:`encode` turn ``metadata.managedFields`` into :class:`Entry` values
keyed by :class:`ManagerKey` (appliers are one manager whatever version they apply with);
:func:`record_update` is what a create, update or non-apply patch does to them. Inputs are
never mutated unless a docstring says so.
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

APPLY = "Apply"
UPDATE = "Update"
MAX_UPDATE_MANAGERS = 10
ANCIENT = "ancient-changes"
BEFORE_FIRST_APPLY = "before-first-apply"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()

# Paths no manager ever owns (apimachinery's stripMetaManager).
STRIPPED: frozenset[Path] = frozenset({
    ("f:apiVersion",), ("f:kind",), ("f:metadata",),
    *(("f:metadata", f"f:{name}") for name in (
        "name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName",
        "generation", "managedFields", "resourceVersion")),
})


class FieldPathError(ValueError):
    """An object that has no field set under its schema (a list item without its keys,
    duplicate keys where they are not allowed), or undecodable managedFields."""


def keep_all(_path: Path) -> bool:
    return True


def without_prefix(prefix: Path) -> Keep:
    """Keep paths outside ``prefix`` (the fields a subresource resets, such as status)."""
    n = len(prefix)
    return lambda p: p[:n] != prefix


def only_prefix(prefix: Path) -> Keep:
    """Keep paths at or below ``prefix`` (what a subresource may own)."""
    n = len(prefix)
    return lambda p: p[:n] == prefix and len(p) >= n


# --------------------------------------------------------------------------- elements

def field_element(name: str) -> str:
    return "f:" + name


def _json(value: Any) -> str:
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
        return "k:" + _json(keys)
    if sh.list_type == "set" and not isinstance(item, dict | list):
        return "v:" + _json(item)
    return f"i:{index}"


def _go_value(value: Any) -> str:
    if isinstance(value, str):
        return _json(value)
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


# --------------------------------------------------------------------------- entries

@dataclass(frozen=True, order=True)
class ManagerKey:
    """Who owns a set: appliers have no apiVersion in their identity."""

    manager: str
    operation: str
    api_version: str = ""
    subresource: str = ""

    def identifier(self) -> str:
        """The JSON identifier kube sorts conflicting managers by."""
        doc: JSON = {"manager": self.manager, "operation": self.operation}
        if self.api_version:
            doc["apiVersion"] = self.api_version
        if self.subresource:
            doc["subresource"] = self.subresource
        return _json(doc)

    def describe(self) -> str:
        """The manager as conflict messages name it: ``"kubectl"`` or ``"m" using apps/v1``."""
        text = _json(self.manager)
        if self.subresource:
            text += f" with subresource {_json(self.subresource)}"
        if self.operation == UPDATE:
            text += f" using {self.api_version}"
        return text


def key_for(manager: str, operation: str, api_version: str, subresource: str = "") -> ManagerKey:
    return ManagerKey(manager or "unknown", operation,
                      "" if operation == APPLY else api_version, subresource)


@dataclass
class Entry:
    """One managedFields entry: the fields, the version they were set with, and when."""

    fields: set[Path]
    api_version: str
    time: str | None = None


Managed = dict[ManagerKey, Entry]


def decode(entries: Any) -> Managed:
    """``metadata.managedFields`` as entries; FieldPathError when any is malformed."""
    managed: Managed = {}
    if entries is None:
        return managed
    if not isinstance(entries, list):
        raise FieldPathError("managedFields must be a list")
    for i, e in enumerate(entries):
        if not isinstance(e, dict):
            raise FieldPathError(f"managed fields entry {i} is not an object")
        op = e.get("operation")
        if op not in (APPLY, UPDATE):
            raise FieldPathError("operation must be `Apply` or `Update`")
        version = e.get("apiVersion") or ""
        if not version:
            raise FieldPathError("apiVersion must not be empty")
        ftype = e.get("fieldsType") or ""
        if ftype != "FieldsV1":
            raise FieldPathError(f"invalid fieldsType {ftype!r} in managed fields entry {i}"
                                 if ftype else f"missing fieldsType in managed fields entry {i}")
        key = key_for(str(e.get("manager") or ""), op, version, str(e.get("subresource") or ""))
        managed[key] = Entry(from_fields_v1(e.get("fieldsV1") or {}), version, e.get("time"))
    return managed


def encode(managed: Managed) -> list[JSON]:
    """Entries in kube's order: operation, time, manager, apiVersion, subresource."""
    out: list[JSON] = []
    for key, entry in managed.items():
        doc: JSON = {"manager": key.manager, "operation": key.operation,
                     "apiVersion": entry.api_version}
        if entry.time:
            doc["time"] = entry.time
        doc["fieldsType"] = "FieldsV1"
        doc["fieldsV1"] = to_fields_v1(entry.fields)
        if key.subresource:
            doc["subresource"] = key.subresource
        out.append(doc)
    out.sort(key=lambda d: (d["operation"], d.get("time") or "", d["manager"],
                            d["apiVersion"], d.get("subresource", "")))
    return out


def is_reset(entries: Any) -> bool:
    """``[]`` or ``[{}]``: a request to clear managedFields."""
    return isinstance(entries, list) and (not entries or (len(entries) == 1
                                                          and entries[0] == {}))


def plain(obj: JSON) -> JSON:
    """``obj`` without ``metadata.managedFields`` (a shallow copy)."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or "managedFields" not in meta:
        return obj
    return {**obj, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}


def skeleton(schema: JSON | None) -> JSON:
    """What an empty object of the kind looks like to kube (its non-pointer structs)."""
    props = (schema or {}).get("properties") or {}
    return {k: {} for k in ("metadata", "spec", "status")
            if fs.shape(props.get(k)).kind == fs.STRUCT}


def set_managed(obj: JSON, managed: Managed) -> None:
    """Write ``managed`` into ``obj`` (mutates it); empty removes the field."""
    meta = obj.setdefault("metadata", {})
    if managed:
        meta["managedFields"] = encode(managed)
    else:
        meta.pop("managedFields", None)


# --------------------------------------------------------------------------- updates

def update_others(old: Any, new: Any, managed: Managed, skip: ManagerKey | None,
                  schema: JSON | None, keep: Keep, force: bool,
                  ) -> tuple[Comparison, dict[ManagerKey, set[Path]]]:
    """Take changed fields away from every manager but ``skip`` (SMD's ``update``).

    Returns the comparison and the conflicts: fields of other managers that changed. Without
    ``force`` and with conflicts, ``managed`` is left as it was.
    """
    cmp = compare(old, new, schema).filtered(keep)
    changed = cmp.added | cmp.modified
    conflicts: dict[ManagerKey, set[Path]] = {}
    for key, entry in managed.items():
        if key == skip:
            continue
        hit = entry.fields & changed
        if hit:
            conflicts[key] = hit
    if conflicts and not force:
        return cmp, conflicts
    for key, entry in list(managed.items()):
        if key == skip:
            continue
        entry.fields = entry.fields - conflicts.get(key, set()) - cmp.removed
        if not entry.fields:
            del managed[key]
    return cmp, conflicts


def _cap_updaters(managed: Managed) -> None:
    updaters = [k for k in managed if k.operation == UPDATE]
    if len(updaters) <= MAX_UPDATE_MANAGERS:
        return
    updaters.sort(key=lambda k: (managed[k].time or "", k.identifier()))
    first_by_version: dict[str, ManagerKey] = {}
    count = len(updaters)
    for key in updaters:
        if count <= MAX_UPDATE_MANAGERS:
            break
        entry = managed[key]
        version = entry.api_version
        bucket = key_for(ANCIENT, UPDATE, version)
        first = first_by_version.get(version)
        if first is None:
            first_by_version[version] = key
            continue
        if bucket not in managed:
            managed[bucket] = managed.pop(first)
        target = managed[bucket]
        target.fields = target.fields | entry.fields
        target.time = entry.time
        del managed[key]
        count -= 1


def update_sets(old: Any, new: Any, managed: Managed, key: ManagerKey, api_version: str,
                schema: JSON | None, keep: Keep, now: str) -> None:
    """A non-apply write by ``key`` (mutates ``managed``): it takes what it changed."""
    cmp, _ = update_others(old, new, managed, None, schema, keep, force=True)
    taken = (cmp.added | cmp.modified) - STRIPPED
    if not taken:
        return
    previous = managed.get(key)
    fields = taken if previous is None else previous.fields | taken
    managed[key] = Entry(fields, api_version, now)
    _cap_updaters(managed)


def record_update(live: JSON | None, new: JSON, *, manager: str, api_version: str,
                  schema: JSON | None, now: str, subresource: str = "",
                  keep: Keep = keep_all) -> None:
    """Set ``new``'s managedFields (mutating it) after a create (``live`` None), update or
    non-apply patch by ``manager``, as kube's field manager does.

    managedFields sent in ``new`` win when they decode (``[]`` clears them); otherwise the
    live ones are kept. An existing object without managedFields stays untracked.
    """
    meta = new.get("metadata")
    if not isinstance(meta, dict):
        return
    sent = meta.get("managedFields")
    live_entries = (live or {}).get("metadata", {}).get("managedFields")
    managed: Managed
    if subresource or sent is None:
        managed = _decode_or_empty(live_entries)
    elif is_reset(sent):
        managed = {}
    else:
        try:
            managed = decode(sent)
        except FieldPathError:
            managed = {}
        if not managed:
            managed = _decode_or_empty(live_entries)
    if not managed and live is not None:
        meta.pop("managedFields", None)
        return
    old = plain(live) if live is not None else skeleton(schema)
    try:
        update_sets(old, plain(new), managed, key_for(manager, UPDATE, api_version, subresource),
                    api_version, schema, keep, now)
    except FieldPathError:
        meta.pop("managedFields", None)
        return
    set_managed(new, managed)


def _decode_or_empty(entries: Any) -> Managed:
    try:
        return decode(entries)
    except FieldPathError:
        return {}
