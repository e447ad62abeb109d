"""Generic REST storage: create, read, update, patch and delete of API objects.

This is kube-apiserver's ``registry/generic`` in small: it owns the metadata rules (uid,
creationTimestamp, generation, resourceVersion, generateName), finalizers, managedFields
and optimistic concurrency, and runs every write through the same steps: the kind's
prepare (status resets), decode checks, the kind's defaults, the admission chain
(:mod:`kubelite.apiserver.admission`), managedFields, the kind's validation, the kind's
claims beside the store (``begin_write``: Service IPs and ports; committed once stored,
reverted when the write fails or is a dry run), then the store. What differs by kind is
asked of its strategy (:mod:`kubelite.apiserver.kinds`); no kind is named here. Handlers
call it; it calls the store.

Objects handed out may be shared with the watch cache: callers never mutate them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson

from kubelite.api import errors, scheme
from kubelite.api.meta import generate_name, new_uid
from kubelite.api.meta_time import Clock, rfc3339, utcnow
from kubelite.api.validation.core import check_quantities
from kubelite.apiserver.admission.chain import Chain
from kubelite.apiserver.admission.interface import CREATE, DELETE, UPDATE, Attributes
from kubelite.apiserver.admission.plugins import default_chain
from kubelite.apiserver.allocators.services import Allocators
from kubelite.apiserver.kinds.strategy import NO_TRANSACTION, Transaction, has_status
from kubelite.apiserver.kinds.table import strategy_for
from kubelite.apiserver.openapi import openapi
from kubelite.apiserver.patch import managedfields as mf
from kubelite.storage.interface import (
    JSON,
    KeyExists,
    KeyNotFound,
    ListResult,
    RevisionConflict,
    Store,
)

_MAX_RETRIES = 16


def deep_copy(obj: Any) -> Any:
    """A deep copy of a JSON value (objects from the cache are shared, never mutated)."""
    return orjson.loads(orjson.dumps(obj))


@dataclass(frozen=True)
class DeleteOptions:
    grace_period_seconds: int | None = None
    propagation_policy: str | None = None
    precondition_uid: str | None = None
    precondition_rv: str | None = None
    dry_run: bool = False

    @classmethod
    def from_json(cls, body: JSON | None, query: dict[str, str]) -> DeleteOptions:
        body = body or {}
        grace = body.get("gracePeriodSeconds", query.get("gracePeriodSeconds"))
        pre = body.get("preconditions") or {}
        dry = body.get("dryRun") or ([query["dryRun"]] if "dryRun" in query else [])
        policy = body.get("propagationPolicy", query.get("propagationPolicy"))
        orphan = body.get("orphanDependents", query.get("orphanDependents"))
        if orphan is not None and policy is not None:
            raise errors.invalid("DeleteOptions", "", [errors.Cause(
                "FieldValueInvalid", "Invalid value: \"orphanDependents\": "
                "orphanDependents and deletionPropagation cannot be both set",
                "propagationPolicy")], "meta.k8s.io")
        if orphan is not None:
            policy = "Orphan" if str(orphan).lower() == "true" else "Background"
        if policy is not None and policy not in PROPAGATION_POLICIES:
            raise errors.invalid("DeleteOptions", "", [errors.Cause(
                "FieldValueNotSupported",
                f"Unsupported value: \"{policy}\": supported values: \"Foreground\", "
                f"\"Background\", \"Orphan\"", "propagationPolicy")], "meta.k8s.io")
        return cls(
            grace_period_seconds=int(grace) if grace is not None else None,
            propagation_policy=policy,
            precondition_uid=pre.get("uid"),
            precondition_rv=pre.get("resourceVersion"),
            dry_run="All" in dry,
        )


PROPAGATION_POLICIES = ("Foreground", "Background", "Orphan")
ORPHAN_FINALIZER = "orphan"
FOREGROUND_FINALIZER = "foregroundDeletion"


def _finalizers_for(policy: str | None, finalizers: list[str]) -> list[str]:
    """The finalizers a deletion with ``policy`` leaves on the object (``deletionFinalizers
    ForGarbageCollection``): Orphan adds ``orphan``, Foreground ``foregroundDeletion``,
    Background neither; each removes the other's. None (the default of every served
    kind) changes nothing."""
    if policy is None:
        return finalizers
    out = [f for f in finalizers if f not in (ORPHAN_FINALIZER, FOREGROUND_FINALIZER)]
    if policy == "Orphan":
        out.append(ORPHAN_FINALIZER)
    elif policy == "Foreground":
        out.append(FOREGROUND_FINALIZER)
    return out


Mutation = Callable[[JSON], Awaitable[JSON] | JSON]


class CreatedFieldsCache:
    """managedFields of created objects by their content less the per-object metadata.

    Objects made from one template (a controller's pods, a benchmark's) own the same
    fields; computing them is the costly part of a create. Bounded (LRU)."""

    _VOLATILE = ("name", "uid", "creationTimestamp", "resourceVersion",
                 "managedFields")

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._entries: OrderedDict[bytes, list[JSON]] = OrderedDict()

    def _key(self, res: scheme.Resource, obj: JSON, manager: str) -> bytes:
        meta = {k: v for k, v in obj.get("metadata", {}).items() if k not in self._VOLATILE}
        rest = {k: v for k, v in obj.items() if k != "metadata"}
        return orjson.dumps([res.kind, res.api_version, manager, meta, rest],
                            option=orjson.OPT_SORT_KEYS)

    def get(self, res: scheme.Resource, obj: JSON, manager: str) -> list[JSON] | None:
        key = self._key(res, obj, manager)
        hit = self._entries.get(key)
        if hit is not None:
            self._entries.move_to_end(key)
            return deep_copy(hit)  # type: ignore[no-any-return]
        return None

    def put(self, res: scheme.Resource, obj: JSON, manager: str) -> None:
        fields = obj.get("metadata", {}).get("managedFields")
        if not isinstance(fields, list):
            return
        self._entries[self._key(res, obj, manager)] = deep_copy(fields)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


class Registry:
    """The write and read rules of every served resource over one :class:`Store`."""

    def __init__(self, store: Store, clock: Clock = utcnow,
                 admission: Chain | None = None, allocators: Allocators | None = None) -> None:
        """``allocators``: the cluster-wide ranges strategies claim from (the default
        Service CIDR and node-port range when not given)."""
        self.store = store
        self.allocators = allocators if allocators is not None else Allocators()
        self.clock = clock
        self.admission = admission if admission is not None else default_chain(store)
        self._created_fields = CreatedFieldsCache()

    # -- reads ---------------------------------------------------------------------------

    async def get(self, res: scheme.Resource, namespace: str | None, name: str) -> JSON:
        obj = await self.store.get(res.key(namespace, name))
        if obj is None:
            raise errors.not_found(res.plural, name, res.group)
        return obj

    async def list(
        self, res: scheme.Resource, namespace: str | None, *, revision: int = 0,
        start_after: str = "", limit: int = 0,
    ) -> ListResult:
        return await self.store.list(
            res.prefix(namespace), revision=revision, start_after=start_after, limit=limit
        )

    # -- create --------------------------------------------------------------------------

    async def create(
        self, res: scheme.Resource, namespace: str | None, obj: JSON, *, dry_run: bool = False,
        field_manager: str | None = None,
    ) -> JSON:
        """Create ``obj`` (already decoded and checked for kind); 201 semantics.

        With ``field_manager``, the fields of ``obj`` are recorded in managedFields as that
        manager's ``Update`` (an apply passes None: its managedFields are already set).
        """
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = generate_name(str(meta["generateName"]))
        name = meta.get("name") or ""
        if res.namespaced:
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        obj["kind"] = res.kind
        obj["apiVersion"] = res.api_version
        strategy = strategy_for(res)
        self._prepare_create(res, obj)
        check_quantities(obj, res.kind)
        strategy.default(res, obj)
        await self.admission.run(Attributes(CREATE, res, None, namespace or "", name, obj))
        if field_manager is not None:
            self._record(res, None, obj, field_manager, None)
        causes = strategy.validate(res, obj)
        if causes:
            raise errors.invalid(res.kind, name, causes, res.group)
        txn = strategy.begin_write(self, obj, None) or NO_TRANSACTION
        if dry_run:
            txn.revert()
            return obj
        try:
            created = await self._reverting(txn, self.store.create(res.key(namespace, name),
                                                                   obj))
        except KeyExists:
            raise errors.already_exists(res.plural, name, res.group) from None
        txn.commit()
        await strategy.after_create(self, created)
        return created

    def _prepare_create(self, res: scheme.Resource, obj: JSON) -> None:
        meta = obj["metadata"]
        for field in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds",
                      "selfLink"):
            meta.pop(field, None)
        meta["uid"] = new_uid()
        meta["creationTimestamp"] = rfc3339(self.clock())
        strategy = strategy_for(res)
        if strategy.tracks_generation:
            meta["generation"] = 1
        else:
            meta.pop("generation", None)
        strategy.prepare_for_create(res, obj)

    # -- update --------------------------------------------------------------------------

    async def update(
        self, res: scheme.Resource, namespace: str | None, name: str, obj: JSON, *,
        subresource: str | None = None, dry_run: bool = False, field_manager: str | None = None,
    ) -> JSON:
        """PUT semantics: replace, with optimistic concurrency when resourceVersion is set."""
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        if meta.get("name") and meta["name"] != name:
            raise errors.bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the "
                f"URL ({name})"
            )
        rv = meta.get("resourceVersion")
        expected = int(rv) if rv else None

        def replace(current: JSON) -> JSON:
            if expected is not None and int(current["metadata"]["resourceVersion"]) != expected:
                raise errors.conflict(res.plural, name, res.group)
            return obj

        return await self.guaranteed_update(
            res, namespace, name, replace, subresource=subresource, dry_run=dry_run,
            field_manager=field_manager,
        )

    async def guaranteed_update(
        self, res: scheme.Resource, namespace: str | None, name: str, mutate: Mutation, *,
        subresource: str | None = None, dry_run: bool = False, field_manager: str | None = None,
        owner_subresource: str | None = None,
    ) -> JSON:
        """Read, mutate a copy, write back if unchanged meanwhile; retry on races.

        ``mutate`` gets a private copy of the current object and returns the desired one;
        it may raise a :class:`~kubelite.api.errors.StatusError`. With ``field_manager`` the
        fields it changed are recorded in managedFields as that manager's ``Update``, through
        ``owner_subresource`` when given (``scale``) or else ``subresource``.
        """
        key = res.key(namespace, name)
        strategy = strategy_for(res)
        for _ in range(_MAX_RETRIES):
            current = await self.store.get(key)
            if current is None:
                raise errors.not_found(res.plural, name, res.group)
            result = mutate(deep_copy(current))
            desired: JSON = await result if isinstance(result, Awaitable) else result
            if isinstance(desired, dict):
                check_quantities(desired, res.kind)
                strategy.default(res, desired)
                await self.admission.run(Attributes(
                    UPDATE, res, subresource, namespace or "", name, desired, current))
            new = self._prepare_update(res, desired, current, subresource)
            if field_manager is not None:
                self._record(res, current, new, field_manager,
                             owner_subresource or subresource)
            # a binding sets spec.nodeName, which a pod update may not (as in kube-apiserver,
            # the binding subresource is not an update)
            causes = (strategy.validate_update(res, new, current, subresource)
                      if subresource != "binding" else [])
            if causes:
                raise errors.invalid(res.kind, name, causes, res.group)
            txn = ((strategy.begin_write(self, new, current) if subresource is None else None)
                   or NO_TRANSACTION)
            if new == current or dry_run:
                txn.revert()
                return current if not dry_run else new
            meta = new["metadata"]
            if (
                meta.get("deletionTimestamp")
                and not strategy.pending_finalizers(new)
                and (not strategy.graceful_delete or meta.get("deletionGracePeriodSeconds") == 0)
            ):
                txn.revert()
                return await self._delete_now(res, key, current)
            try:
                updated = await self._reverting(txn, self.store.update(
                    key, new, expected_revision=int(current["metadata"]["resourceVersion"])))
            except RevisionConflict:
                continue
            except KeyNotFound:
                raise errors.not_found(res.plural, name, res.group) from None
            txn.commit()
            return updated
        raise errors.conflict(res.plural, name, res.group)

    async def update_or_create(
        self, res: scheme.Resource, namespace: str | None, name: str,
        mutate: Callable[[JSON | None], JSON], *, subresource: str | None = None,
        dry_run: bool = False,
    ) -> tuple[JSON, bool]:
        """As :meth:`guaranteed_update`, but an absent object is created from
        ``mutate(None)`` (server-side apply). Returns the object and whether it was created.
        """
        for _ in range(_MAX_RETRIES):
            if await self.store.get(res.key(namespace, name)) is None and subresource is None:
                obj = mutate(None)
                try:
                    return await self.create(res, namespace, obj, dry_run=dry_run), True
                except errors.StatusError as exc:
                    if exc.reason != "AlreadyExists":
                        raise
                    continue
            try:
                updated = await self.guaranteed_update(
                    res, namespace, name, mutate, subresource=subresource, dry_run=dry_run)
                return updated, False
            except errors.StatusError as exc:
                if exc.code != 404 or subresource is not None:
                    raise
        raise errors.conflict(res.plural, name, res.group)

    @staticmethod
    async def _reverting(txn: Transaction, write: Awaitable[JSON]) -> JSON:
        """The store's answer to ``write``; ``txn`` reverted when it fails."""
        try:
            return await write
        except BaseException:
            txn.revert()
            raise

    def _record(self, res: scheme.Resource, live: JSON | None, new: JSON, manager: str,
                subresource: str | None) -> None:
        now = rfc3339(self.clock())
        if live is None and subresource is None:
            cached = self._created_fields.get(res, new, manager)
            if cached is not None:
                new["metadata"]["managedFields"] = [{**e, "time": now} for e in cached]
                return
        schema = openapi.schema_for(res.group, res.version, res.kind)
        mf.record_update(
            live, new, manager=manager, api_version=res.api_version, schema=schema,
            now=now, subresource=subresource or "", keep=ownership(res, subresource),
        )
        if live is None and subresource is None:
            self._created_fields.put(res, new, manager)

    def _prepare_update(
        self, res: scheme.Resource, new: JSON, old: JSON, subresource: str | None
    ) -> JSON:
        new["kind"] = res.kind
        new["apiVersion"] = res.api_version
        meta = new.setdefault("metadata", {})
        old_meta = old["metadata"]
        for field in ("uid", "creationTimestamp", "namespace", "name", "deletionTimestamp",
                      "deletionGracePeriodSeconds", "generation"):
            if field in old_meta:
                meta[field] = old_meta[field]
            else:
                meta.pop(field, None)
        meta["resourceVersion"] = old_meta["resourceVersion"]
        strategy = strategy_for(res)
        strategy.prepare_for_update(res, new, old, subresource)
        if strategy.tracks_generation and subresource is None:
            if new.get("spec") != old.get("spec"):
                meta["generation"] = int(old_meta.get("generation", 1)) + 1
        return new

    # -- delete --------------------------------------------------------------------------

    async def delete(
        self, res: scheme.Resource, namespace: str | None, name: str, opts: DeleteOptions,
    ) -> JSON:
        """DELETE semantics: graceful for pods on a node, deferred while finalizers remain.

        Returns the object: its last state when gone, or the state marked for deletion.
        """
        key = res.key(namespace, name)
        strategy = strategy_for(res)
        for _ in range(_MAX_RETRIES):
            current = await self.store.get(key)
            if current is None:
                raise errors.not_found(res.plural, name, res.group)
            meta = current["metadata"]
            if opts.precondition_uid and opts.precondition_uid != meta.get("uid"):
                raise errors.conflict(
                    res.plural, name, res.group,
                    f"Precondition failed: UID in precondition: {opts.precondition_uid}, "
                    f"UID in object meta: {meta.get('uid')}",
                )
            if opts.precondition_rv and opts.precondition_rv != meta.get("resourceVersion"):
                raise errors.conflict(
                    res.plural, name, res.group,
                    f"Precondition failed: ResourceVersion in precondition: "
                    f"{opts.precondition_rv}, ResourceVersion in object meta: "
                    f"{meta.get('resourceVersion')}",
                )
            await self.admission.run(Attributes(
                DELETE, res, None, namespace or "", name, None, current))
            grace = strategy.grace_period(current, opts.grace_period_seconds)
            fins = list(meta.get("finalizers") or [])
            gc_fins = _finalizers_for(opts.propagation_policy, fins)
            if gc_fins != fins and strategy.deletion_finalizers:
                current = deep_copy(current)
                if gc_fins:
                    current["metadata"]["finalizers"] = gc_fins
                else:
                    current["metadata"].pop("finalizers", None)
            if grace == 0 and not strategy.pending_finalizers(current):
                if opts.dry_run:
                    return current
                try:
                    return await self._delete_now(res, key, current)
                except RevisionConflict:
                    continue
            new: JSON = deep_copy(current)
            nmeta = new["metadata"]
            now = self.clock()
            if nmeta.get("deletionTimestamp"):
                old_grace = nmeta.get("deletionGracePeriodSeconds")
                if old_grace is not None and grace >= old_grace:
                    if gc_fins == fins or opts.dry_run:
                        return current
                    try:  # only the finalizers change (e.g. a later --cascade=orphan)
                        return await self.store.update(
                            key, new, expected_revision=int(meta["resourceVersion"]))
                    except RevisionConflict:
                        continue
            nmeta["deletionTimestamp"] = rfc3339(now + timedelta(seconds=grace))
            nmeta["deletionGracePeriodSeconds"] = grace
            strategy.mark_deleting(new)
            if opts.dry_run:
                return new
            try:
                return await self.store.update(
                    key, new, expected_revision=int(meta["resourceVersion"])
                )
            except RevisionConflict:
                continue
        raise errors.conflict(res.plural, name, res.group)

    async def _delete_now(self, res: scheme.Resource, key: str, current: JSON) -> JSON:
        meta = current["metadata"]
        try:
            deleted: JSON = await self.store.delete(
                key, expected_revision=int(meta["resourceVersion"])
            )
        except KeyNotFound:
            raise errors.not_found(res.plural, meta.get("name", ""), res.group) from None
        await strategy_for(res).after_delete(self, deleted)
        return deleted


def ownership(res: scheme.Resource, subresource: str | None) -> mf.Keep:
    """Which fields a write through ``subresource`` may own (the rest it resets)."""
    if subresource == "status":
        return mf.only_prefix(("f:status",))
    if subresource == "scale":
        return mf.only_prefix(("f:spec", "f:replicas"))
    if has_status(res):
        return mf.without_prefix(("f:status",))
    return mf.keep_all
