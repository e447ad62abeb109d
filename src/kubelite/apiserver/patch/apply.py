"""Server-side apply: merge an applier's configuration into the live object, with ownership.

:func:`apply` is what ``PATCH`` with ``application/apply-patch+yaml`` does (structured-merge-
diff's ``Updater.Apply`` behind apimachinery's field manager):

- the configuration is merged into the live object with the schema: granular maps merge key by
  key, list-maps item by item on their keys, sets by value, atomic values are replaced;
- the applier then owns exactly the fields of its configuration; fields it owned before and
  left out are removed, unless another manager owns them too;
- a field another manager owns whose value would change is a conflict: 409 with one
  ``FieldManagerConflict`` cause per field, unless ``force``, which takes it over;
- applying a configuration that changes nothing returns the live object unchanged.

Pure: objects in, object out; the caller stores the result.
"""

from __future__ import annotations

from typing import Any

import orjson

from kubelite.api import errors
from kubelite.api.meta import JSON
from kubelite.apiserver.patch import fieldpaths as fp
from kubelite.apiserver.patch import fieldschema as fs
from kubelite.apiserver.patch import managedfields as mf
from kubelite.apiserver.patch.fieldpaths import MISSING, Path
from kubelite.apiserver.patch.managedfields import Keep, ManagerKey


def merge(live: Any, config: Any, schema: JSON | None) -> Any:
    """``config`` merged into ``live`` (MISSING when absent); ``null`` in config unsets."""
    sh = fs.of_value(fs.shape(schema), config)
    if isinstance(config, dict) and sh.kind in (fs.STRUCT, fs.MAP) and not sh.atomic:
        base = live if isinstance(live, dict) else {}
        out = dict(base)
        for k, v in config.items():
            if v is None:
                out.pop(k, None)
            else:
                out[k] = merge(base.get(k, MISSING), v, fs.child(sh, k))
        return out
    if isinstance(config, list) and sh.kind == fs.LIST and not sh.atomic:
        return _merge_list(live if isinstance(live, list) else [], config, sh)
    return config


def _merge_list(live: list[Any], config: list[Any], sh: fs.Shape) -> list[Any]:
    """Items only the live list has keep their place; the others follow the config's order."""
    cpes = [fp.item_element(sh, item, i) for i, item in enumerate(config)]
    lpes = [fp.item_element(sh, item, i) for i, item in enumerate(live)]
    cindex = dict(zip(cpes, config, strict=True))
    lindex: dict[str, Any] = {}
    for pe, item in zip(lpes, live, strict=True):
        lindex.setdefault(pe, item)
    out: list[Any] = []
    emitted: set[str] = set()
    j = 0

    def emit_config_until(stop: str | None) -> None:
        nonlocal j
        while j < len(config):
            pe = cpes[j]
            out.append(merge(lindex.get(pe, MISSING), config[j], sh.elem))
            emitted.add(pe)
            j += 1
            if pe == stop:
                return

    for pe, item in zip(lpes, live, strict=True):
        if pe in emitted:
            continue
        if pe in cindex:
            emit_config_until(pe)
        else:
            out.append(item)
    emit_config_until(None)
    return out


def _prune(merged: JSON, managed: mf.Managed, key: ManagerKey, last: set[Path] | None,
           schema: JSON | None) -> JSON:
    """Remove what the applier owned last time and dropped, unless someone else owns it."""
    if not last:
        return merged
    pruned = fp.remove_items(merged, fp.ensure_named(last, schema), schema)
    owned: set[Path] = set()
    for entry in managed.values():
        owned |= entry.fields
    merged_set = fp.ensure_named(fp.to_field_set(merged, schema), schema)
    pruned_set = fp.ensure_named(fp.to_field_set(pruned, schema), schema)
    pruned = fp.remove_items(
        merged, merged_set - (pruned_set | fp.ensure_named(owned, schema)), schema)
    pruned_set = fp.ensure_named(fp.to_field_set(pruned, schema), schema)
    dropped = (merged_set - pruned_set) & fp.ensure_named(last, schema)
    result: JSON = fp.remove_items(merged, dropped, schema)
    return result


def conflict_error(conflicts: dict[ManagerKey, set[Path]]) -> errors.StatusError:
    """409 Conflict as kube reports apply conflicts (apimachinery ``NewConflictError``)."""
    pairs = [(key, path) for key in sorted(conflicts, key=ManagerKey.identifier)
             for path in fp.iterate(conflicts[key])]
    causes = [errors.Cause("FieldManagerConflict", f"conflict with {key.describe()}",
                           fp.path_string(path)) for key, path in pairs]
    if len(pairs) == 1:
        key, path = pairs[0]
        message = (f"Apply failed with 1 conflict: conflict with {key.describe()}: "
                   f"{fp.path_string(path)}")
    else:
        parts: list[str] = []
        for key in sorted(conflicts, key=ManagerKey.identifier):
            parts.append(f"conflicts with {key.describe()}:")
            parts.extend(f"- {fp.path_string(p)}" for p in fp.iterate(conflicts[key]))
        message = f"Apply failed with {len(pairs)} conflicts: " + "\n".join(parts)
    return errors.StatusError(409, "Conflict", message, None, causes)


def _internal(message: str) -> errors.StatusError:
    return errors.StatusError(500, "", message)


def _allowed_by_last_applied(live: JSON, schema: JSON | None) -> set[Path]:
    """Fields kubectl's client-side apply set and nobody changed since: an upgrade from
    client-side to server-side apply may take them without ``force``."""
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    text = annotations.get(mf.LAST_APPLIED)
    if not text:
        return set()
    try:
        last = orjson.loads(text)
    except orjson.JSONDecodeError:
        return set()
    if not isinstance(last, dict) or last.get("apiVersion") != live.get("apiVersion"):
        return set()
    try:
        fields = fp.to_field_set(last, schema)
        cmp = fp.compare(last, mf.plain(live), schema)
    except fp.FieldPathError:
        return set()
    return fields - cmp.modified - cmp.added - cmp.removed


def apply(live: JSON | None, config: JSON, *, manager: str, force: bool,
          schema: JSON | None, api_version: str, now: str, subresource: str = "",
          keep: Keep = mf.keep_all) -> JSON:
    """The object after ``manager`` applies ``config`` to ``live`` (None: it does not exist).

    The result carries the new ``metadata.managedFields``; when nothing changed it equals
    ``live``. Raises a 409 StatusError for conflicts (without ``force``), 400 when the
    configuration sets managedFields, 500 when an object has no field set under the schema.
    """
    if (config.get("metadata") or {}).get("managedFields") is not None:
        raise errors.bad_request("metadata.managedFields must be nil")
    key = mf.key_for(manager, mf.APPLY, api_version, subresource)
    try:
        managed = mf.decode((live or {}).get("metadata", {}).get("managedFields"))
    except fp.FieldPathError as e:
        raise _internal(f"failed to decode managed fields: {e}") from None
    old: JSON = mf.plain(live) if live is not None else mf.skeleton(schema)
    try:
        config_set = {p for p in fp.to_field_set(config, schema) if keep(p)}
    except fp.FieldPathError as e:
        raise _internal(f"failed to create typed patch object: {e}") from None
    try:
        if live is not None and not managed:
            mf.update_sets(mf.skeleton(schema), old, managed,
                           mf.key_for(mf.BEFORE_FIRST_APPLY, mf.UPDATE, api_version),
                           api_version, schema, keep, now)
        merged = merge(old, config, schema)
        previous = managed.get(key)
        last = previous.fields if previous is not None else None
        managed[key] = mf.Entry(config_set, api_version, previous.time if previous else None)
        new = _prune(merged, managed, key, last, schema)
        _, conflicts = mf.update_others(old, new, managed, key, schema, keep, force)
        if conflicts and not force and manager == "kubectl" and live is not None:
            allowed = _allowed_by_last_applied(live, schema)
            remaining = {k: v - allowed for k, v in conflicts.items() if v - allowed}
            if not remaining:  # conflicts leave ``managed`` as it was: redo with force
                mf.update_others(old, new, managed, key, schema, keep, True)
                conflicts = {}
            else:
                conflicts = remaining
        if conflicts and not force:
            raise conflict_error(conflicts)
    except fp.FieldPathError as e:
        raise _internal(f"failed to merge config: {e}") from None
    changed = live is None or new != old
    entry = managed[key]
    entry.fields = entry.fields - mf.STRIPPED
    if not entry.fields:
        del managed[key]
    elif changed or previous is None:
        entry.time = now
    if (manager == "kubectl" and live is not None
            and ((live.get("metadata") or {}).get("annotations") or {}).get(mf.LAST_APPLIED)):
        new = _with_last_applied(new, config)
    result: JSON = dict(new)
    result["metadata"] = dict(result.get("metadata") or {})
    mf.set_managed(result, managed)
    return result


def _with_last_applied(obj: JSON, config: JSON) -> JSON:
    meta = dict(config.get("metadata") or {})
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items()
                   if k != mf.LAST_APPLIED}
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    text = orjson.dumps({**config, "metadata": meta}, option=orjson.OPT_SORT_KEYS).decode()
    out = dict(obj)
    out_meta = dict(out.get("metadata") or {})
    out_meta["annotations"] = {**(out_meta.get("annotations") or {}), mf.LAST_APPLIED: text}
    out["metadata"] = out_meta
    return out
