"""NamespaceLifecycle: no new content in a namespace that is missing or terminating, and
the system namespaces may not be deleted (``plugin/pkg/admission/namespace/lifecycle``)."""

from __future__ import annotations

from kubelite.api import errors, scheme
from kubelite.apiserver.admission.interface import (
    CREATE,
    DELETE,
    Attributes,
    Operation,
    Plugin,
    forbidden,
)
from kubelite.storage.interface import Store

PROTECTED_NAMESPACES = frozenset({"default", "kube-system", "kube-public"})


def _is_namespaces(resource: scheme.Resource) -> bool:
    return resource.group == "" and resource.plural == "namespaces"


class NamespaceLifecycle(Plugin):
    """Refuses creates in absent (404) or terminating (403) namespaces, and deletes of
    ``default``, ``kube-system`` and ``kube-public`` (403)."""

    name = "NamespaceLifecycle"

    def __init__(self, store: Store) -> None:
        self.store = store

    def handles(self, operation: Operation, resource: scheme.Resource,
                subresource: str | None) -> bool:
        if operation == CREATE:
            return resource.namespaced and subresource is None
        return operation == DELETE and _is_namespaces(resource)

    async def admit(self, attrs: Attributes) -> None:
        if attrs.operation == DELETE:
            if attrs.name in PROTECTED_NAMESPACES:
                raise forbidden(attrs, "this namespace may not be deleted")
            return
        ns_res = scheme.lookup("", "v1", "namespaces")
        assert ns_res is not None
        ns = await self.store.get(ns_res.key(None, attrs.namespace))
        if ns is None:
            raise errors.not_found("namespaces", attrs.namespace)
        if ns.get("metadata", {}).get("deletionTimestamp"):
            raise forbidden(attrs, f"unable to create new content in namespace "
                                   f"{attrs.namespace} because it is being terminated")
