"""Namespaces (core/v1): ``registry/core/namespace``.

A namespace is created ``Active`` with the ``kubernetes`` finalizer in its spec; a DELETE
marks it ``Terminating`` and it stays until the namespace finalizer
(:mod:`kubelite.apiserver.namespaces`) has emptied it and removed that finalizer. Each new
namespace gets its ``default`` ServiceAccount.
"""

from __future__ import annotations

from typing import ClassVar

from kubelite.api import defaults, scheme
from kubelite.api.fieldselectors import NAME_ONLY_FIELDS, Fields, field_path
from kubelite.api.meta import JSON
from kubelite.api.names import name_is_dns_label
from kubelite.api.validation.field import NameFn
from kubelite.apiserver.kinds.serviceaccounts import ensure_default_service_account
from kubelite.apiserver.kinds.strategy import Strategy, Writer
from kubelite.apiserver.printers.core import NAMESPACE
from kubelite.apiserver.printers.tables import Printer

FINALIZER = "kubernetes"


class NamespaceStrategy(Strategy):
    """Namespaces: DNS-label names, spec finalizers, Terminating until emptied."""

    deletion_finalizers = False
    printer: ClassVar[Printer] = NAMESPACE
    field_selectors: ClassVar[Fields | None] = {
        **NAME_ONLY_FIELDS, "status.phase": field_path("status", "phase")}
    name_fn: ClassVar[NameFn] = staticmethod(name_is_dns_label)

    def default(self, res: scheme.Resource, obj: JSON) -> None:
        defaults.default_namespace(obj)

    def prepare_for_create(self, res: scheme.Resource, obj: JSON) -> None:
        obj.setdefault("spec", {})["finalizers"] = [FINALIZER]
        obj["status"] = {"phase": "Active"}

    def mark_deleting(self, obj: JSON) -> None:
        obj.setdefault("status", {})["phase"] = "Terminating"

    def pending_finalizers(self, obj: JSON) -> bool:
        return super().pending_finalizers(obj) or bool(
            (obj.get("spec") or {}).get("finalizers"))

    async def after_create(self, writer: Writer, obj: JSON) -> None:
        await ensure_default_service_account(writer, obj["metadata"]["name"])


NAMESPACE_STRATEGY = NamespaceStrategy()
