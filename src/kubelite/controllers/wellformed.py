"""Objects a controller can reason about, and quarantine for those it cannot.

Typed decoding keeps malformed objects out of the API, but a store written by an older
release (or another writer) may still hold some: a pod whose ``labels`` is a list, an
``ownerReferences`` entry that is a string. Contract: :func:`problem` names the first
field of the metadata controllers read whose JSON type is wrong (None when all are
right); :class:`Quarantine` drops such objects from what a sync sees, logging each one
once (by uid and resourceVersion), so one bad object never stops a controller for the
others of its namespace.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from kubelite.api.meta import JSON

log = logging.getLogger(__name__)
_SEEN_LIMIT = 10_000


def _string_map(value: object) -> bool:
    return value is None or (isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()))


def _owner_ref_problem(ref: object) -> str | None:
    if not isinstance(ref, dict):
        return "is not an object"
    for name in ("apiVersion", "kind", "name", "uid"):
        if not isinstance(ref.get(name), str):
            return f"{name} is not a string"
    for name in ("controller", "blockOwnerDeletion"):
        if ref.get(name) is not None and not isinstance(ref.get(name), bool):
            return f"{name} is not a boolean"
    return None


def problem(obj: object) -> str | None:
    """The first malformed field of ``obj`` a controller would read, or None."""
    if not isinstance(obj, dict):
        return "the object is not a JSON object"
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return "metadata is not an object"
    for name in ("name", "namespace", "uid", "resourceVersion", "deletionTimestamp",
                 "creationTimestamp", "generateName"):
        if meta.get(name) is not None and not isinstance(meta.get(name), str):
            return f"metadata.{name} is not a string"
    for name in ("labels", "annotations"):
        if not _string_map(meta.get(name)):
            return f"metadata.{name} is not a map of strings"
    finalizers = meta.get("finalizers")
    if finalizers is not None and not (isinstance(finalizers, list) and all(
            isinstance(f, str) for f in finalizers)):
        return "metadata.finalizers is not a list of strings"
    refs = meta.get("ownerReferences")
    if refs is not None:
        if not isinstance(refs, list):
            return "metadata.ownerReferences is not a list"
        for i, ref in enumerate(refs):
            why = _owner_ref_problem(ref)
            if why:
                return f"metadata.ownerReferences[{i}] {why}"
    for name in ("spec", "status"):
        if obj.get(name) is not None and not isinstance(obj.get(name), dict):
            return f"{name} is not an object"
    spec = obj.get("spec") or {}
    replicas = spec.get("replicas")
    if replicas is not None and (not isinstance(replicas, int) or isinstance(replicas, bool)
                                 or not 0 <= replicas <= 2**31 - 1):
        return "spec.replicas is not an int32 of at least 0"
    for name in ("selector", "template"):
        if spec.get(name) is not None and not isinstance(spec.get(name), dict):
            return f"spec.{name} is not an object"
    return None


class Quarantine:
    """Filters malformed objects out for one controller, logging each once."""

    def __init__(self, controller: str) -> None:
        self.controller = controller
        self._seen: dict[tuple[str, str], None] = {}
        self._good: dict[tuple[str, str], None] = {}  # versions found well formed

    def ok(self, obj: object) -> bool:
        """Whether ``obj`` is well formed; the first time a malformed version is seen it
        is logged (kind, namespace/name, what is wrong). A version (uid, resourceVersion)
        found well formed is remembered: syncs that read every pod stay cheap."""
        version: tuple[str, str] | None = None
        if isinstance(obj, dict):
            m = obj.get("metadata")
            if isinstance(m, dict):
                u, rv = m.get("uid"), m.get("resourceVersion")
                if isinstance(u, str) and isinstance(rv, str) and u and rv:
                    version = (u, rv)
                    if version in self._good:
                        return True
        why = problem(obj)
        if why is None and version is not None:
            if len(self._good) >= 4 * _SEEN_LIMIT:
                self._good.clear()
            self._good[version] = None
        if why is None:
            return True
        meta = obj.get("metadata") if isinstance(obj, dict) else None
        meta = meta if isinstance(meta, dict) else {}
        ident = (str(meta.get("uid")), str(meta.get("resourceVersion")))
        if ident not in self._seen:
            if len(self._seen) >= _SEEN_LIMIT:
                self._seen.pop(next(iter(self._seen)))
            self._seen[ident] = None
            kind = obj.get("kind") if isinstance(obj, dict) else None
            log.warning("%s: ignoring malformed %s %s/%s: %s", self.controller,
                        kind or "object", meta.get("namespace"), meta.get("name"), why)
        return False

    def filter(self, objs: Iterable[JSON]) -> list[JSON]:
        return [o for o in objs if self.ok(o)]
