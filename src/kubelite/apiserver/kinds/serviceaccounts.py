"""ServiceAccounts (core/v1), and the ``default`` account of every namespace.

kube's serviceaccounts controller keeps a ``default`` ServiceAccount in each live
namespace; kubelite does that as the namespace is created, and again when that account is
deleted.
"""

from __future__ import annotations

from typing import ClassVar

from kubelite.api import defaults, errors, scheme
from kubelite.api.meta import JSON
from kubelite.apiserver.kinds.strategy import Strategy, Writer
from kubelite.apiserver.printers.core import SERVICEACCOUNT
from kubelite.apiserver.printers.tables import Printer


async def ensure_default_service_account(writer: Writer, namespace: str) -> None:
    """Create ServiceAccount ``default`` in ``namespace`` unless it exists or the
    namespace is gone or terminating."""
    ns_res = scheme.lookup("", "v1", "namespaces")
    sa_res = scheme.lookup("", "v1", "serviceaccounts")
    assert ns_res is not None and sa_res is not None
    ns = await writer.store.get(ns_res.key(None, namespace))
    if ns is None or ns.get("metadata", {}).get("deletionTimestamp"):
        return
    if await writer.store.get(sa_res.key(namespace, defaults.DEFAULT_SERVICE_ACCOUNT)):
        return
    sa: JSON = {"apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": defaults.DEFAULT_SERVICE_ACCOUNT}}
    try:
        await writer.create(sa_res, namespace, sa)
    except errors.StatusError as exc:
        if exc.code not in (403, 404, 409):
            raise


class ServiceAccountStrategy(Strategy):
    """ServiceAccounts: the ``default`` one comes back when deleted."""

    printer: ClassVar[Printer] = SERVICEACCOUNT

    async def after_delete(self, writer: Writer, obj: JSON) -> None:
        meta = obj["metadata"]
        if meta.get("name") == defaults.DEFAULT_SERVICE_ACCOUNT:
            await ensure_default_service_account(writer, meta.get("namespace") or "")


SERVICE_ACCOUNT_STRATEGY = ServiceAccountStrategy()
