"""Disruption budgets on ``pods/eviction`` (``registry/core/pod/storage/eviction.go``).

Contract: :func:`check_budgets` returns when the pod may be deleted and raises otherwise:
a pod that is not Running (Pending, Succeeded, Failed) or already being deleted may
always go; otherwise the one PodDisruptionBudget of its namespace whose selector matches
it decides: a budget its controller has not yet processed (``observedGeneration`` behind)
or with no disruption allowed refuses with kube's 429 ``Cannot evict pod as it would
violate the pod's disruption budget.``; an allowed eviction takes one disruption off the
budget (and records the pod in ``disruptedPods``) before the pod is deleted, under
optimistic concurrency, so two evictions never spend the same disruption. More than one
matching budget is a 500, as in kube.
"""

from __future__ import annotations

from kubelite.api import errors, scheme
from kubelite.api.disruption import matching_budgets
from kubelite.api.meta import JSON, dig
from kubelite.api.meta_time import rfc3339, utcnow
from kubelite.apiserver.registry import Registry

VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget."
MULTIPLE = ("This pod has more than one PodDisruptionBudget, which the eviction subresource "
            "does not support.")


def _too_many(message: str) -> errors.StatusError:
    return errors.StatusError(429, "TooManyRequests", VIOLATION,
                              causes=[errors.Cause("DisruptionBudget", message)])


def spend(pdb: JSON, pod_name: str) -> JSON:
    """``checkAndDecrement``: the budget with one disruption spent on ``pod_name``."""
    status = pdb.setdefault("status", {})
    if int(status.get("observedGeneration") or 0) < int(dig(pdb, "metadata", "generation")
                                                          or 0):
        raise _too_many(f"The disruption budget {pdb['metadata']['name']} is still being "
                        f"processed by the server.")
    allowed = int(status.get("disruptionsAllowed") or 0)
    if allowed < 0:
        raise errors.forbidden("pdb disruptions allowed is negative")
    if allowed == 0:
        raise _too_many(f"The disruption budget {pdb['metadata']['name']} needs "
                        f"{int(status.get('desiredHealthy') or 0)} healthy pods and has "
                        f"{int(status.get('currentHealthy') or 0)} currently")
    status["disruptionsAllowed"] = allowed - 1
    disrupted = dict(status.get("disruptedPods") or {})
    disrupted[pod_name] = rfc3339(utcnow())
    status["disruptedPods"] = disrupted
    return pdb


async def check_budgets(registry: Registry, pods: scheme.Resource, namespace: str,
                        name: str) -> None:
    """Raise unless evicting pod ``namespace/name`` keeps its budget (see the contract)."""
    pod = await registry.get(pods, namespace, name)
    if dig(pod, "metadata", "deletionTimestamp") or dig(pod, "status", "phase") in (
            "Pending", "Succeeded", "Failed"):
        return
    res = scheme.lookup("policy", "v1", "poddisruptionbudgets")
    assert res is not None
    budgets = matching_budgets(pod, (await registry.list(res, namespace)).items)
    if not budgets:
        return
    if len(budgets) > 1:
        raise errors.internal(MULTIPLE)
    await registry.guaranteed_update(res, namespace, budgets[0]["metadata"]["name"],
                                     lambda pdb: spend(pdb, name), subresource="status")
