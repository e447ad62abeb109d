"""DefaultStorageClass (``plugin/pkg/admission/storage/storageclass/setdefault``).

A claim created without ``spec.storageClassName`` (absent or null; ``""`` asks for no
class and is kept) and without the beta class annotation gets the default StorageClass:
the one annotated ``storageclass.kubernetes.io/is-default-class: "true"``, the newest
when several are (then by name, as kube sorts them). No default class: nothing changes.
"""

from __future__ import annotations

from kubelite.api import scheme
from kubelite.api.meta import JSON, dig
from kubelite.api.storageclass import BETA_CLASS_ANNOTATION, is_default_class
from kubelite.apiserver.admission.interface import CREATE, Attributes, Operation, Plugin
from kubelite.storage.interface import Store


def default_class(classes: list[JSON]) -> str | None:
    """``GetDefaultClass``: the newest default class's name (ties: the first by name)."""
    defaults = [c for c in classes if is_default_class(c)]
    if not defaults:
        return None
    defaults.sort(key=lambda c: str(dig(c, "metadata", "name") or ""))
    defaults.sort(key=lambda c: str(dig(c, "metadata", "creationTimestamp") or ""),
                  reverse=True)
    return str(dig(defaults[0], "metadata", "name"))


class DefaultStorageClass(Plugin):
    """Fills a new claim's ``storageClassName`` from the default StorageClass."""

    name = "DefaultStorageClass"

    def __init__(self, store: Store) -> None:
        self.store = store

    def handles(self, operation: Operation, resource: scheme.Resource,
                subresource: str | None) -> bool:
        return (operation == CREATE and resource.group == ""
                and resource.plural == "persistentvolumeclaims" and subresource is None)

    async def admit(self, attrs: Attributes) -> None:
        obj = attrs.obj
        spec = dig(obj, "spec")
        if not isinstance(spec, dict) or spec.get("storageClassName") is not None:
            return
        annotations = dig(obj, "metadata", "annotations")
        if isinstance(annotations, dict) and BETA_CLASS_ANNOTATION in annotations:
            return
        res = scheme.lookup("storage.k8s.io", "v1", "storageclasses")
        assert res is not None
        found = default_class((await self.store.list(res.prefix(None))).items)
        if found is not None:
            spec["storageClassName"] = found
