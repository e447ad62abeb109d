"""The garbage collector: dependents whose owners are gone are deleted, and the
``orphan`` and ``foregroundDeletion`` finalizers the API server puts on owners are
carried out.

Contracts (as kube-controller-manager's garbage collector, over the kinds it watches):
- an object all of whose owner references (by uid) name objects that no longer exist is
  deleted (Background); owner references to missing owners are dropped when some owner
  remains;
- an owner being deleted with the ``orphan`` finalizer has its references removed from
  every dependent, then the finalizer removed;
- an owner being deleted with ``foregroundDeletion`` has its dependents deleted
  (Foreground, for those that block it), and loses the finalizer once no dependent with
  ``blockOwnerDeletion`` remains;
- existence is confirmed against the API server before anything is deleted, so a stale
  cache never deletes a dependent of a live owner.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from kubelite.api import scheme
from kubelite.api.errors import StatusError
from kubelite.api.meta import JSON
from kubelite.client.informer import Informer
from kubelite.client.rest import ApiClient
from kubelite.controllers.base import Controller
from kubelite.controllers.pods import meta, owner_refs, uid

log = logging.getLogger(__name__)
ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"


def _key(res: scheme.Resource, obj: JSON) -> str:
    m = meta(obj)
    return f"{res.plural}|{res.group}|{m.get('namespace') or ''}|{m.get('name')}"


class GarbageCollector(Controller):
    """Watches the given informers (one per kind); keys are ``plural|group|ns|name``."""

    name = "garbage-collector"

    def __init__(self, client: ApiClient, informers: Sequence[Informer],
                 workers: int = 2) -> None:
        super().__init__(workers)
        self.client = client
        self.informers = {(i.res.group, i.res.plural): i for i in informers}
        self._by_uid: dict[str, tuple[scheme.Resource, JSON]] = {}
        self._dependents: dict[str, set[str]] = {}  # owner uid -> dependent keys

    def register(self) -> None:
        for inf in self.informers.values():
            res = inf.res
            inf.add_handlers(
                on_add=lambda o, r=res: self._changed(r, None, o),  # type: ignore[misc]
                on_update=lambda a, b, r=res: self._changed(r, a, b),  # type: ignore[misc]
                on_delete=lambda o, r=res: self._deleted(r, o),  # type: ignore[misc]
            )

    # -- graph ---------------------------------------------------------------------------

    def _changed(self, res: scheme.Resource, old: JSON | None, new: JSON) -> None:
        key = _key(res, new)
        self._by_uid[uid(new)] = (res, new)
        if old is not None:
            for r in owner_refs(old):
                self._dependents.get(str(r.get("uid")), set()).discard(key)
        for r in owner_refs(new):
            self._dependents.setdefault(str(r.get("uid")), set()).add(key)
        if owner_refs(new) or meta(new).get("deletionTimestamp"):
            self.queue.add(key)

    def _deleted(self, res: scheme.Resource, obj: JSON) -> None:
        self._by_uid.pop(uid(obj), None)
        for r in owner_refs(obj):
            deps = self._dependents.get(str(r.get("uid")))
            if deps is not None:
                deps.discard(_key(res, obj))
                if not deps:
                    self._dependents.pop(str(r.get("uid")), None)
        # its dependents may now be orphans; a foreground owner may be unblocked
        for dep in list(self._dependents.get(uid(obj), ())):
            self.queue.add(dep)
        for r in owner_refs(obj):
            owner = self._by_uid.get(str(r.get("uid")))
            if owner is not None:
                self.queue.add(_key(*owner))

    def _lookup(self, key: str) -> tuple[Informer, JSON] | None:
        plural, group, ns, name = key.split("|", 3)
        inf = self.informers.get((group, plural))
        if inf is None:
            return None
        obj = inf.get(f"{ns}/{name}" if ns else name)
        return (inf, obj) if obj is not None else None

    def dependents_of(self, owner_uid: str) -> list[tuple[Informer, JSON]]:
        out = []
        for key in list(self._dependents.get(owner_uid, ())):
            found = self._lookup(key)
            if found is not None and any(r.get("uid") == owner_uid
                                         for r in owner_refs(found[1])):
                out.append(found)
        return out

    # -- sync ----------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        found = self._lookup(key)
        if found is None:
            return
        inf, obj = found
        finalizers = meta(obj).get("finalizers") or []
        if meta(obj).get("deletionTimestamp"):
            if ORPHAN in finalizers:
                await self._orphan(inf, obj)
                return
            if FOREGROUND in finalizers:
                await self._foreground(inf, obj)
                return
        refs = owner_refs(obj)
        if refs:
            await self._check_owners(inf, obj, refs)

    async def _owner_exists(self, ns: str, ref: JSON) -> tuple[bool, JSON | None]:
        """Whether the owner named by ``ref`` exists with that uid (asked of the server)."""
        res = scheme.by_kind(str(ref.get("apiVersion") or ""), str(ref.get("kind") or ""))
        if res is None:
            return True, None  # a kind we do not serve: never collect on its account
        try:
            owner = await self.client.get(res, str(ref.get("name")), ns if res.namespaced
                                          else None)
        except StatusError as exc:
            if exc.code == 404:
                return False, None
            raise
        if uid(owner) != ref.get("uid"):
            return False, None
        return True, owner

    async def _check_owners(self, inf: Informer, obj: JSON, refs: list[JSON]) -> None:
        ns = str(meta(obj).get("namespace") or "")
        missing: list[JSON] = []
        waiting_foreground = False
        for ref in refs:
            cached = self._by_uid.get(str(ref.get("uid")))
            if cached is not None:
                owner: JSON | None = cached[1]
                exists = True
            else:
                exists, owner = await self._owner_exists(ns, ref)
            if not exists:
                missing.append(ref)
            elif owner is not None and meta(owner).get("deletionTimestamp") and \
                    FOREGROUND in (meta(owner).get("finalizers") or []):
                waiting_foreground = True
        if waiting_foreground:
            owner_key = next((_key(*self._by_uid[str(r.get("uid"))]) for r in refs
                              if str(r.get("uid")) in self._by_uid), None)
            if owner_key:
                self.queue.add(owner_key)
        if not missing:
            return
        if len(missing) == len(refs):
            if meta(obj).get("deletionTimestamp"):
                return
            policy = "Foreground" if FOREGROUND in (meta(obj).get("finalizers") or []) \
                else "Background"
            await self._delete(inf, obj, policy)
            return
        gone = {r.get("uid") for r in missing}
        keep = [r for r in refs if r.get("uid") not in gone]
        await self._patch(inf, obj, {"metadata": {"ownerReferences": keep}})

    async def _orphan(self, inf: Informer, owner: JSON) -> None:
        owner_uid = uid(owner)
        for dinf, dep in self.dependents_of(owner_uid):
            keep = [r for r in owner_refs(dep) if r.get("uid") != owner_uid]
            await self._patch(dinf, dep, {"metadata": {"ownerReferences": keep or None}})
        await self._remove_finalizer(inf, owner, ORPHAN)

    async def _foreground(self, inf: Informer, owner: JSON) -> None:
        owner_uid = uid(owner)
        blocking = 0
        for dinf, dep in self.dependents_of(owner_uid):
            ref = next(r for r in owner_refs(dep) if r.get("uid") == owner_uid)
            if ref.get("blockOwnerDeletion"):
                blocking += 1
            if not meta(dep).get("deletionTimestamp"):
                policy = "Foreground" if ref.get("blockOwnerDeletion") else "Background"
                await self._delete(dinf, dep, policy)
        if blocking == 0:
            await self._remove_finalizer(inf, owner, FOREGROUND)

    # -- writes --------------------------------------------------------------------------

    async def _delete(self, inf: Informer, obj: JSON, policy: str) -> None:
        m = meta(obj)
        try:
            await self.client.delete(inf.res, str(m.get("name")), m.get("namespace"),
                                     uid=uid(obj), propagation_policy=policy)
        except StatusError as exc:
            if exc.code not in (404, 409):
                raise

    async def _patch(self, inf: Informer, obj: JSON, patch: JSON) -> None:
        m = meta(obj)
        try:
            await self.client.patch(inf.res, str(m.get("name")), patch, m.get("namespace"))
        except StatusError as exc:
            if exc.code not in (404, 409):
                raise

    async def _remove_finalizer(self, inf: Informer, obj: JSON, finalizer: str) -> None:
        m = meta(obj)
        try:
            current = await self.client.get(inf.res, str(m.get("name")), m.get("namespace"))
        except StatusError as exc:
            if exc.code == 404:
                return
            raise
        if uid(current) != uid(obj):
            return
        fins = [f for f in meta(current).get("finalizers") or [] if f != finalizer]
        patch = [{"op": "test", "path": "/metadata/resourceVersion",
                  "value": meta(current).get("resourceVersion")},
                 {"op": "replace", "path": "/metadata/finalizers", "value": fins}]
        try:
            await self.client.patch(inf.res, str(m.get("name")), patch, m.get("namespace"),
                                     patch_type="json")
        except StatusError as exc:
            if exc.code not in (404, 409, 422):
                raise
            if exc.code in (409, 422):
                self.queue.add(_key(inf.res, obj))
