"""The ``Strategy``: what one kind adds to the generic store's rules.

As kube-apiserver's ``registry/<group>/<kind>/strategy.go``: the generic store
(:mod:`kubelite.apiserver.registry`) owns what every object shares (uid, timestamps,
resourceVersion, generateName, optimistic concurrency, finalizers, managedFields) and asks
the kind's strategy for the rest: its defaults, what create and update reset, validation,
the Table printer, the selectable fields, the deletion grace period, and the hooks around
writes. :class:`Strategy` itself is the generic default: a kind that needs nothing special
is served by it as it is.

Contracts: ``prepare_*`` and ``default`` mutate the object they are given (the caller's
private copy) and never raise; ``validate*`` return causes and never raise; a strategy
holds no per-request state, so one instance serves every request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Protocol

from kubelite.api import scheme
from kubelite.api.errors import Cause
from kubelite.api.fieldselectors import Fields
from kubelite.api.meta import JSON
from kubelite.api.names import name_is_dns_subdomain
from kubelite.api.validation.field import Errors, NameFn
from kubelite.api.validation.objectmeta import validate_object_meta, validate_object_meta_update
from kubelite.apiserver.allocators.services import Allocators
from kubelite.apiserver.printers.tables import DEFAULT_PRINTER, Printer
from kubelite.storage.interface import Store

# Fields that only the status subresource writes, and that a spec write keeps.
_SPEC_SIDE = ("kind", "apiVersion", "metadata", "status")


class Transaction(Protocol):
    """What a write claimed beside the store: committed once the object is stored,
    reverted when the write failed or was a dry run (each at most once)."""

    def commit(self) -> None: ...

    def revert(self) -> None: ...


class _NoTransaction:
    """The transaction of a write that claims nothing beside the store."""

    def commit(self) -> None:
        pass

    def revert(self) -> None:
        pass


NO_TRANSACTION: Transaction = _NoTransaction()


class Writer(Protocol):
    """What a strategy's write hooks may use of the store that calls them."""

    store: Store
    allocators: Allocators

    async def create(self, res: scheme.Resource, namespace: str | None, obj: JSON, *,
                     dry_run: bool = False, field_manager: str | None = None) -> JSON: ...


def has_status(res: scheme.Resource) -> bool:
    """Whether ``res`` has a status subresource (its status and spec are written apart)."""
    return res.subresource("status") is not None


class Strategy:
    """The rules of one kind; this base class is the generic default for all of them.

    Class attributes say what the generic store does for the kind:

    - ``tracks_generation``: ``metadata.generation`` starts at 1 and counts spec changes;
    - ``graceful_delete``: an update that clears the last finalizer of an object being
      deleted only removes it once its grace period is 0 (pods wait for their kubelet);
    - ``deletion_finalizers``: a DELETE's propagationPolicy adds the garbage collector's
      ``orphan`` / ``foregroundDeletion`` finalizers;
    - ``printer``: the Table columns of ``kubectl get``;
    - ``field_selectors``: the selectable fields (None: only metadata.name/namespace);
      ``field_aliases``: old spellings of them;
    - ``name_fn``: the check of ``metadata.name`` (DNS subdomain unless said otherwise).
    """

    tracks_generation: ClassVar[bool] = False
    graceful_delete: ClassVar[bool] = False
    deletion_finalizers: ClassVar[bool] = True
    printer: ClassVar[Printer] = DEFAULT_PRINTER
    field_selectors: ClassVar[Fields | None] = None
    field_aliases: ClassVar[Mapping[str, str]] = {}
    name_fn: ClassVar[NameFn] = staticmethod(name_is_dns_subdomain)

    # -- decoding ------------------------------------------------------------------------

    def default(self, res: scheme.Resource, obj: JSON) -> None:
        """Fill in what the decoder defaults (on create and on every update)."""

    # -- create and update ----------------------------------------------------------------

    def prepare_for_create(self, res: scheme.Resource, obj: JSON) -> None:
        """Reset what a create may not set: the status of kinds that have one."""
        if has_status(res):
            obj["status"] = {}

    def prepare_for_update(self, res: scheme.Resource, new: JSON, old: JSON,
                           subresource: str | None) -> None:
        """Keep what this write may not change: a status write keeps everything but the
        status, any other write keeps the status (kinds with a status subresource)."""
        if not has_status(res):
            return
        if subresource == "status":
            for k in list(new):
                if k not in _SPEC_SIDE:
                    del new[k]
            for k, v in old.items():
                if k not in ("metadata", "status"):
                    new[k] = v
        elif "status" in old:
            new["status"] = old["status"]
        else:
            new.pop("status", None)

    # -- validation ----------------------------------------------------------------------

    def validate(self, res: scheme.Resource, obj: JSON) -> list[Cause]:
        """The causes of a 422 for creating ``obj`` (empty when valid)."""
        errs = Errors()
        validate_object_meta(obj.get("metadata"), res.namespaced, type(self).name_fn, errs)
        self.validate_object(res, obj, errs)
        return errs.causes

    def validate_update(self, res: scheme.Resource, new: JSON, old: JSON,
                        subresource: str | None = None) -> list[Cause]:
        """The causes of a 422 for replacing ``old`` by ``new``: what create checks, then
        what may not change (writes to ``subresource`` leave the spec alone)."""
        errs = Errors()
        validate_object_meta(new.get("metadata"), res.namespaced, type(self).name_fn, errs)
        validate_object_meta_update(new.get("metadata"), old.get("metadata"), errs)
        self.validate_object(res, new, errs)
        self.validate_object_update(res, new, old, subresource, errs)
        return errs.causes

    def validate_object(self, res: scheme.Resource, obj: JSON, errs: Errors) -> None:
        """The kind's own checks (its metadata is already checked)."""

    def validate_object_update(self, res: scheme.Resource, new: JSON, old: JSON,
                               subresource: str | None, errs: Errors) -> None:
        """The kind's immutability checks on update."""

    # -- deletion ------------------------------------------------------------------------

    def grace_period(self, obj: JSON, requested: int | None) -> int:
        """Seconds a DELETE waits before the object goes (0: at once)."""
        return 0

    def mark_deleting(self, obj: JSON) -> None:
        """What a DELETE that leaves the object in place changes besides its metadata."""

    def pending_finalizers(self, obj: JSON) -> bool:
        """Whether anything still holds the object back from deletion."""
        return bool(obj["metadata"].get("finalizers"))

    # -- hooks around writes (the work of controllers kube runs beside the store) --------

    def begin_write(self, writer: Writer, obj: JSON, old: JSON | None) -> Transaction | None:
        """Claims cluster-wide values for a create (``old`` None) or an update of ``obj``,
        after validation and before the store (Service IPs and ports); may fill them into
        ``obj`` and may refuse with a ``StatusError``. Synchronous, so that a check and its
        claim are one step on the loop."""
        return None

    async def after_create(self, writer: Writer, obj: JSON) -> None:
        """Runs after ``obj`` was stored by a create."""

    async def after_delete(self, writer: Writer, obj: JSON) -> None:
        """Runs after ``obj`` was removed from the store."""


GENERIC = Strategy()
"""The strategy of every kind the table does not name."""
