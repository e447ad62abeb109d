"""The scheduler's view of a pod's claims (kube-scheduler's VolumeBinding plugin, small).

Contract: :func:`check_claims` reads the pod's ``persistentVolumeClaim`` claims and
their volumes and returns either the pre-filter message that keeps the pod Pending
(``persistentvolumeclaim "NAME" not found``, ``pod has unbound immediate
PersistentVolumeClaims``) or the bound volumes, whose node affinity
:func:`volume_conflict` checks per node. Claims of a ``WaitForFirstConsumer`` class pass
unbound: the local-path provisioner provisions on the node the pod is bound to.
"""

from __future__ import annotations

from kubelite.api.errors import StatusError
from kubelite.api.meta import JSON, dig
from kubelite.api.scheme import lookup
from kubelite.client.rest import ApiClient

UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims"
AFFINITY_CONFLICT = "node(s) had volume node affinity conflict"


async def _get(client: ApiClient, plural: str, name: str, ns: str | None) -> JSON | None:
    group = "storage.k8s.io" if plural == "storageclasses" else ""
    res = lookup(group, "v1", plural)
    assert res is not None
    try:
        return await client.get(res, name, ns)
    except StatusError as exc:
        if exc.code == 404:
            return None
        raise


async def check_claims(client: ApiClient, pod: JSON) -> tuple[str | None, list[JSON]]:
    """(pre-filter message or None, the bound volumes of the pod's claims)."""
    ns = str(dig(pod, "metadata", "namespace") or "default")
    volumes: list[JSON] = []
    for vol in dig(pod, "spec", "volumes") or []:
        name = dig(vol, "persistentVolumeClaim", "claimName")
        if not isinstance(name, str):
            continue
        claim = await _get(client, "persistentvolumeclaims", name, ns)
        if claim is None or dig(claim, "metadata", "deletionTimestamp"):
            return f'persistentvolumeclaim "{name}" not found', []
        volume_name = dig(claim, "spec", "volumeName")
        if volume_name:
            pv = await _get(client, "persistentvolumes", str(volume_name), None)
            if pv is not None:
                volumes.append(pv)
            continue
        class_name = dig(claim, "spec", "storageClassName")
        sc = await _get(client, "storageclasses", str(class_name), None) if class_name else None
        if sc is None or sc.get("volumeBindingMode") != "WaitForFirstConsumer":
            return UNBOUND_IMMEDIATE, []
    return None, volumes


def volume_conflict(volumes: list[JSON], node: JSON) -> str | None:
    """The filter reason when a bound volume's node affinity excludes ``node``."""
    labels = dig(node, "metadata", "labels") or {}
    for pv in volumes:
        terms = dig(pv, "spec", "nodeAffinity", "required", "nodeSelectorTerms")
        if not isinstance(terms, list) or not terms:
            continue
        if not any(_term_matches(t, labels) for t in terms if isinstance(t, dict)):
            return AFFINITY_CONFLICT
    return None


def _term_matches(term: JSON, labels: dict[str, str]) -> bool:
    for e in term.get("matchExpressions") or []:
        key, op, values = e.get("key"), e.get("operator"), e.get("values") or []
        have = labels.get(str(key))
        if op == "In" and have not in values:
            return False
        if op == "NotIn" and have in values:
            return False
        if op == "Exists" and have is None:
            return False
        if op == "DoesNotExist" and have is not None:
            return False
    return True
