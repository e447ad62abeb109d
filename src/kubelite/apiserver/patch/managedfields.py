"""Field ownership: the sets of ``metadata.managedFields`` and how writes change them.

A field set is a set of paths; a path is a tuple of path elements written as in
``fieldsV1`` (:mod:`~kubelite.apiserver.patch.fieldpaths` walks objects into them and
holds their wire form).

:func:`decode` / :func:`encode` turn ``metadata.managedFields`` into :class:`Entry` values
keyed by :class:`ManagerKey` (appliers are one manager whatever version they apply with);
:func:`record_update` is what a create, update or non-apply patch does to them. Inputs are
never mutated unless a docstring says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubelite.api.meta import JSON
from kubelite.apiserver.patch import fieldpaths as fp
from kubelite.apiserver.patch import fieldschema as fs

Keep = fp.Keep

APPLY = "Apply"
UPDATE = "Update"
MAX_UPDATE_MANAGERS = 10
ANCIENT = "ancient-changes"
BEFORE_FIRST_APPLY = "before-first-apply"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


# Paths no manager ever owns (apimachinery's stripMetaManager).
STRIPPED: frozenset[fp.Path] = frozenset({
    ("f:apiVersion",), ("f:kind",), ("f:metadata",),
    *(("f:metadata", f"f:{name}") for name in (
        "name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName",
        "generation", "managedFields", "resourceVersion")),
})


def keep_all(_path: fp.Path) -> bool:
    return True


def without_prefix(prefix: fp.Path) -> Keep:
    """Keep paths outside ``prefix`` (the fields a subresource resets, such as status)."""
    n = len(prefix)
    return lambda p: p[:n] != prefix


def only_prefix(prefix: fp.Path) -> Keep:
    """Keep paths at or below ``prefix`` (what a subresource may own)."""
    n = len(prefix)
    return lambda p: p[:n] == prefix and len(p) >= n


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
        return fp.json_text(doc)

    def describe(self) -> str:
        """The manager as conflict messages name it: ``"kubectl"`` or ``"m" using apps/v1``."""
        text = fp.json_text(self.manager)
        if self.subresource:
            text += f" with subresource {fp.json_text(self.subresource)}"
        if self.operation == UPDATE:
            text += f" using {self.api_version}"
        return text


def key_for(manager: str, operation: str, api_version: str, subresource: str = "") -> ManagerKey:
    return ManagerKey(manager or "unknown", operation,
                      "" if operation == APPLY else api_version, subresource)


@dataclass
class Entry:
    """One managedFields entry: the fields, the version they were set with, and when."""

    fields: set[fp.Path]
    api_version: str
    time: str | None = None


Managed = dict[ManagerKey, Entry]


def decode(entries: Any) -> Managed:
    """``metadata.managedFields`` as entries; fp.FieldPathError when any is malformed."""
    managed: Managed = {}
    if entries is None:
        return managed
    if not isinstance(entries, list):
        raise fp.FieldPathError("managedFields must be a list")
    for i, e in enumerate(entries):
        if not isinstance(e, dict):
            raise fp.FieldPathError(f"managed fields entry {i} is not an object")
        op = e.get("operation")
        if op not in (APPLY, UPDATE):
            raise fp.FieldPathError("operation must be `Apply` or `Update`")
        version = e.get("apiVersion") or ""
        if not version:
            raise fp.FieldPathError("apiVersion must not be empty")
        ftype = e.get("fieldsType") or ""
        if ftype != "FieldsV1":
            raise fp.FieldPathError(f"invalid fieldsType {ftype!r} in managed fields entry {i}"
                                 if ftype else f"missing fieldsType in managed fields entry {i}")
        key = key_for(str(e.get("manager") or ""), op, version, str(e.get("subresource") or ""))
        managed[key] = Entry(fp.from_fields_v1(e.get("fieldsV1") or {}), version, e.get("time"))
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
        doc["fieldsV1"] = fp.to_fields_v1(entry.fields)
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
                  ) -> tuple[fp.Comparison, dict[ManagerKey, set[fp.Path]]]:
    """Take changed fields away from every manager but ``skip`` (SMD's ``update``).

    Returns the comparison and the conflicts: fields of other managers that changed. Without
    ``force`` and with conflicts, ``managed`` is left as it was.
    """
    cmp = fp.compare(old, new, schema).filtered(keep)
    changed = cmp.added | cmp.modified
    conflicts: dict[ManagerKey, set[fp.Path]] = {}
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
        except fp.FieldPathError:
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
    except fp.FieldPathError:
        meta.pop("managedFields", None)
        return
    set_managed(new, managed)


def _decode_or_empty(entries: Any) -> Managed:
    try:
        return decode(entries)
    except fp.FieldPathError:
        return {}
