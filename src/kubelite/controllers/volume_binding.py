"""The PV binder's pure decisions (``pkg/controller/volume/persistentvolume``).

:func:`plan_claim` says what one claim needs: bind to a volume (a pre-bound one first,
then the smallest Available volume that fits: class, access modes, capacity, selector,
and for ``WaitForFirstConsumer`` the node chosen for its first pod), ask the class's
provisioner, or wait (with kube's event). :func:`volume_phase` gives a volume's phase
from its claim reference and the claims that exist. Neither reads nor writes anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubelite.api import quantity
from kubelite.api.meta import JSON, dig
from kubelite.api.selectors import label_selector_from_dict
from kubelite.api.storageclass import claim_class

SELECTED_NODE = "volume.kubernetes.io/selected-node"
STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"
BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
WAIT_FOR_FIRST_CONSUMER = "WaitForFirstConsumer"
HOSTNAME_LABEL = "kubernetes.io/hostname"

WAITING_FOR_CONSUMER = "waiting for first consumer to be created before binding"
NO_CLASS = "no persistent volumes available for this claim and no storage class is set"


def external_provisioning(provisioner: str) -> str:
    """The ExternalProvisioning event of a claim waiting for its class's provisioner."""
    return (f"Waiting for a volume to be created either by the external provisioner "
            f"'{provisioner}' or manually by the system administrator. If volume creation "
            f"is delayed, please verify that the provisioner is running and correctly "
            f"registered.")


@dataclass(frozen=True)
class ClaimPlan:
    """``bind``: the volume to bind; ``provisioner``: ask it (annotate the claim);
    ``event``: (type, reason, message) to record while the claim waits."""

    bind: str | None = None
    provisioner: str | None = None
    event: tuple[str, str, str] | None = None


def _meta(obj: JSON) -> JSON:
    m = obj.get("metadata")
    return m if isinstance(m, dict) else {}


def _annotations(obj: JSON) -> dict[str, str]:
    a = _meta(obj).get("annotations")
    return a if isinstance(a, dict) else {}


def storage_of(holder: object) -> int:
    """The ``storage`` quantity in bytes (0 when unset or malformed)."""
    v = holder.get("storage") if isinstance(holder, dict) else None
    try:
        return int(quantity.value(str(v))) if v is not None else 0
    except ValueError:
        return 0


def refers_to(pv: JSON, claim: JSON) -> bool:
    """Whether ``pv``'s claimRef names ``claim`` (and its uid, when the ref has one)."""
    ref = dig(pv, "spec", "claimRef")
    if not isinstance(ref, dict):
        return False
    m = _meta(claim)
    if ref.get("name") != m.get("name") or ref.get("namespace") != m.get("namespace"):
        return False
    return not ref.get("uid") or ref.get("uid") == m.get("uid")


def node_allows(pv: JSON, node: str) -> bool:
    """Whether ``pv``'s required node affinity admits the node named ``node`` (by its
    hostname label, which kubelite sets to the node's name)."""
    terms = dig(pv, "spec", "nodeAffinity", "required", "nodeSelectorTerms")
    if not isinstance(terms, list) or not terms:
        return True
    for term in terms:
        exprs = term.get("matchExpressions") if isinstance(term, dict) else None
        ok = True
        for e in exprs if isinstance(exprs, list) else []:
            if e.get("key") != HOSTNAME_LABEL:
                continue
            values = e.get("values") or []
            if (e.get("operator") == "In") != (node in values):
                ok = False
        if ok:
            return True
    return False


def fits(pv: JSON, claim: JSON, node: str | None) -> bool:
    """Whether an unclaimed ``pv`` can serve ``claim`` (``findMatchingVolume``)."""
    if dig(pv, "spec", "claimRef") or _meta(pv).get("deletionTimestamp"):
        return False
    if dig(pv, "status", "phase") not in (None, "Pending", "Available"):
        return False
    if claim_class(pv) != claim_class(claim):
        return False
    have = set(dig(pv, "spec", "accessModes") or [])
    if not set(dig(claim, "spec", "accessModes") or []) <= have:
        return False
    if (dig(pv, "spec", "volumeMode") or "Filesystem") != (
            dig(claim, "spec", "volumeMode") or "Filesystem"):
        return False
    if storage_of(dig(pv, "spec", "capacity")) < storage_of(
            dig(claim, "spec", "resources", "requests")):
        return False
    selector = dig(claim, "spec", "selector")
    if isinstance(selector, dict) and not label_selector_from_dict(selector).matches_object(pv):
        return False
    return node is None or node_allows(pv, node)


def plan_claim(claim: JSON, volumes: list[JSON], storage_class: JSON | None) -> ClaimPlan:
    """What an unbound ``claim`` (no ``spec.volumeName``) needs now."""
    pre_bound = [pv for pv in volumes if refers_to(pv, claim)]
    if pre_bound:
        return ClaimPlan(bind=str(_meta(pre_bound[0]).get("name")))
    wait_for_consumer = (storage_class is not None
                         and storage_class.get("volumeBindingMode") == WAIT_FOR_FIRST_CONSUMER)
    node = _annotations(claim).get(SELECTED_NODE)
    if wait_for_consumer and not node:
        return ClaimPlan(event=("Normal", "WaitForFirstConsumer", WAITING_FOR_CONSUMER))
    candidates = [pv for pv in volumes if fits(pv, claim, node if wait_for_consumer else None)]
    if candidates:
        best = min(candidates, key=lambda pv: (storage_of(dig(pv, "spec", "capacity")),
                                               str(_meta(pv).get("name"))))
        return ClaimPlan(bind=str(_meta(best).get("name")))
    if storage_class is None:
        if claim_class(claim):
            name = claim_class(claim)
            return ClaimPlan(event=("Warning", "ProvisioningFailed",
                                    f'storageclass.storage.k8s.io "{name}" not found'))
        return ClaimPlan(event=("Normal", "FailedBinding", NO_CLASS))
    provisioner = str(storage_class.get("provisioner") or "")
    return ClaimPlan(provisioner=provisioner,
                     event=("Normal", "ExternalProvisioning",
                            external_provisioning(provisioner)))


def volume_phase(pv: JSON, claim: JSON | None) -> str:
    """The phase of ``pv`` given the claim its claimRef names (None: no such claim)."""
    ref = dig(pv, "spec", "claimRef")
    if not isinstance(ref, dict):
        return "Available"
    if claim is None or not refers_to(pv, claim):
        # a claimRef without uid waits for its claim; one with a uid outlived it
        return "Released" if ref.get("uid") else "Available"
    if dig(claim, "spec", "volumeName") == _meta(pv).get("name"):
        return "Bound"
    return str(dig(pv, "status", "phase") or "Available")
