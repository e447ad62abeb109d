"""ServiceAccount: pods run as an account that exists (``plugin/pkg/admission/serviceaccount``).

On create a pod without ``serviceAccountName`` gets ``default`` (and the deprecated
``serviceAccount`` mirrors it); a mirror pod (a static pod's API copy) may name no account
and reference no secret or config map. The account must exist in the pod's namespace.
"""

from __future__ import annotations

from typing import Any

from kubelite.api import defaults, scheme
from kubelite.api.meta import JSON, dig
from kubelite.apiserver.admission.interface import (
    CREATE,
    Attributes,
    PodPlugin,
    forbidden,
    pod_spec,
)
from kubelite.storage.interface import Store


def _objects(parent: Any, key: str) -> list[JSON]:
    items = dig(parent, key)
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _references(spec: JSON, source: str) -> bool:
    """Whether a pod spec points at ``secret`` or ``configMap`` objects."""
    ref_key = "secretKeyRef" if source == "secret" else "configMapKeyRef"
    env_from_key = "secretRef" if source == "secret" else "configMapRef"
    for vol in _objects(spec, "volumes"):
        if isinstance(vol.get(source), dict):
            return True
        if any(isinstance(p.get(source), dict) for p in _objects(vol.get("projected"), "sources")):
            return True
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for ctr in _objects(spec, key):
            if any(isinstance(dig(env, "valueFrom", ref_key), dict)
                   for env in _objects(ctr, "env")):
                return True
            if any(isinstance(ef.get(env_from_key), dict) for ef in _objects(ctr, "envFrom")):
                return True
    return source == "secret" and bool(_objects(spec, "imagePullSecrets"))


def _unset(value: Any) -> bool:
    """A Go zero value: absent, null, empty string or 0 (not False, which is set)."""
    return value is None or value == "" or (value == 0 and not isinstance(value, bool))


def _is_mirror_pod(obj: JSON) -> bool:
    annotations = dig(obj, "metadata", "annotations")
    return isinstance(annotations, dict) and defaults.MIRROR_POD_ANNOTATION in annotations


class ServiceAccount(PodPlugin):
    """Defaults and checks a pod's service account on create."""

    name = "ServiceAccount"
    operations = (CREATE,)

    def __init__(self, store: Store) -> None:
        self.store = store

    async def admit(self, attrs: Attributes) -> None:
        spec = pod_spec(attrs)
        if spec is None:
            return
        if _is_mirror_pod(attrs.obj or {}):
            if not _unset(spec.get("serviceAccountName")):
                raise forbidden(attrs, "a mirror pod may not reference service accounts")
            if _references(spec, "secret"):
                raise forbidden(attrs, "a mirror pod may not reference secrets")
            if _references(spec, "configMap"):
                raise forbidden(attrs, "a mirror pod may not reference configmaps")
            return
        if _unset(spec.get("serviceAccountName")):
            spec["serviceAccountName"] = defaults.DEFAULT_SERVICE_ACCOUNT
        spec["serviceAccount"] = spec["serviceAccountName"]

    async def validate(self, attrs: Attributes) -> None:
        account = dig(attrs.obj, "spec", "serviceAccountName")
        if not account or not isinstance(account, str):
            return  # mirror pods name none
        sa_res = scheme.lookup("", "v1", "serviceaccounts")
        assert sa_res is not None
        if await self.store.get(sa_res.key(attrs.namespace, account)) is None:
            raise forbidden(attrs, f"error looking up service account {attrs.namespace}/"
                                   f'{account}: serviceaccount "{account}" not found')
