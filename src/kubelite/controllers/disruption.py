"""The disruption controller: each PodDisruptionBudget's status (``disruption.go``).

Contracts:
- :func:`budget_status` is pure: from the budget, the pods its selector matches, the
  scale of their controllers and ``now``: ``expectedPods`` (the matching pods for an
  integer ``minAvailable``, else the sum of the controllers' replicas), ``desiredHealthy``
  (``minAvailable``, or expected minus ``maxUnavailable``; percentages of expected,
  rounded up), ``currentHealthy`` (Ready pods not being deleted and not just evicted),
  ``disruptionsAllowed`` and the ``DisruptionAllowed`` condition; evictions recorded in
  ``disruptedPods`` are forgotten once the pod is gone or after two minutes;
- the controller writes that status when it changed, on every change of a budget or of
  a pod in its namespace, and again when a recorded eviction expires.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from kubelite.aio.clock import REAL, Clock
from kubelite.api.disruption import selects
from kubelite.api.errors import StatusError
from kubelite.api.meta import JSON, dig
from kubelite.api.meta_time import parse_time, rfc3339
from kubelite.client.events import WARNING, EventRecorder
from kubelite.client.informer import Informer, object_key
from kubelite.client.rest import ApiClient
from kubelite.controllers.base import Controller
from kubelite.controllers.pods import controller_ref_of, is_ready, meta
from kubelite.controllers.resources import PODDISRUPTIONBUDGETS

DELETION_TIMEOUT = dt.timedelta(minutes=2)


def _scaled(value: Any, total: int, round_up: bool) -> int | None:
    """An int-or-percent against ``total`` (None when malformed)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.endswith("%") and value[:-1].isdigit():
        exact = int(value[:-1]) * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return None


def _disrupted(pdb: JSON, pods: list[JSON], now: dt.datetime) -> dict[str, str]:
    """The recorded evictions still pending: pod alive (not deleting) and recent."""
    alive = {str(meta(p).get("name")) for p in pods if not meta(p).get("deletionTimestamp")}
    out: dict[str, str] = {}
    for name, when in (dig(pdb, "status", "disruptedPods") or {}).items():
        try:
            t = parse_time(str(when))
        except ValueError:
            continue
        t = t if t.tzinfo else t.replace(tzinfo=dt.UTC)
        if name in alive and t + DELETION_TIMEOUT > now:
            out[name] = str(when)
    return out


def budget_status(pdb: JSON, pods: list[JSON], scale: int | None,
                  now: dt.datetime) -> tuple[JSON, str | None]:
    """The status of ``pdb`` over the pods it selects, and an error to report (when the
    expected count cannot be told). ``scale``: the replicas of the pods' controllers."""
    spec = pdb.get("spec") or {}
    disrupted = _disrupted(pdb, pods, now)
    healthy = sum(1 for p in pods if is_ready(p) and not meta(p).get("deletionTimestamp")
                  and meta(p).get("name") not in disrupted)
    error: str | None = None
    min_available = spec.get("minAvailable")
    if isinstance(min_available, int) and not isinstance(min_available, bool):
        expected, desired = len(pods), min_available
    else:
        expected = scale if scale is not None else len(pods)
        if scale is None and pods:
            error = "found no controllers for pods selected by the budget"
        if "maxUnavailable" in spec:
            unavailable = _scaled(spec["maxUnavailable"], expected, True)
            desired = max(0, expected - (unavailable or 0))
        else:
            desired = _scaled(min_available, expected, True) or 0
    allowed = max(0, healthy - desired) if expected > 0 or desired == 0 else 0
    old = (pdb.get("status") or {}).get("conditions") or []
    prior = next((c for c in old if c.get("type") == "DisruptionAllowed"), None)
    want = "True" if allowed > 0 else "False"
    reason = "SufficientPods" if allowed > 0 else "InsufficientPods"
    condition = {"type": "DisruptionAllowed", "status": want, "reason": reason,
                 "message": "",
                 "observedGeneration": dig(pdb, "metadata", "generation") or 0,
                 "lastTransitionTime": (prior["lastTransitionTime"]
                                        if prior and prior.get("status") == want
                                        else rfc3339(now))}
    status: JSON = {"observedGeneration": dig(pdb, "metadata", "generation") or 0,
                    "disruptionsAllowed": allowed, "currentHealthy": healthy,
                    "desiredHealthy": desired, "expectedPods": expected,
                    "conditions": [condition]}
    if disrupted:
        status["disruptedPods"] = disrupted
    return status, error


class DisruptionController(Controller):
    """Keeps every budget's status (see the module contract)."""

    name = "disruption-controller"

    def __init__(self, client: ApiClient, budgets: Informer, pods: Informer,
                 scalers: dict[str, Informer], recorder: EventRecorder, *,
                 clock: Clock = REAL) -> None:
        """``scalers``: owner kind -> informer of that kind (its ``spec.replicas``)."""
        super().__init__(1, clock)
        self.client = client
        self.budgets = budgets
        self.pods = pods
        self.scalers = scalers
        self.recorder = recorder

    def register(self) -> None:
        self.budgets.add_handlers(on_add=self._enqueue, on_update=lambda o, n: self._enqueue(n))
        self.pods.add_handlers(on_add=self._pod, on_update=lambda o, n: self._pod(n),
                               on_delete=self._pod)

    def _enqueue(self, obj: JSON) -> None:
        self.queue.add(object_key(obj))

    def _pod(self, pod: JSON) -> None:
        ns = meta(pod).get("namespace")
        for pdb in self.budgets.list():
            if meta(pdb).get("namespace") == ns and selects(pdb, pod):
                self._enqueue(pdb)

    def _scale(self, pods: list[JSON]) -> int | None:
        """The replicas of the controllers of ``pods`` (None when one has none)."""
        total = 0
        seen: set[str] = set()
        for pod in pods:
            ref = controller_ref_of(pod)
            informer = self.scalers.get(str((ref or {}).get("kind")))
            if ref is None or informer is None:
                return None
            owner_uid = str(ref.get("uid"))
            if owner_uid in seen:
                continue
            seen.add(owner_uid)
            owner = informer.get(f"{meta(pod).get('namespace')}/{ref.get('name')}")
            if owner is None:
                return None
            if ref.get("kind") == "DaemonSet":
                total += int(dig(owner, "status", "desiredNumberScheduled") or 0)
                continue
            replicas = dig(owner, "spec", "replicas")
            total += 1 if replicas is None else int(replicas)
        return total

    async def sync(self, key: str) -> None:
        pdb = self.budgets.get(key)
        if pdb is None or meta(pdb).get("deletionTimestamp"):
            return
        ns = meta(pdb).get("namespace")
        pods = [p for p in self.pods.list() if meta(p).get("namespace") == ns
                and selects(pdb, p)]
        now = self.clock()
        status, error = budget_status(pdb, pods, self._scale(pods), now)
        if error:
            self.recorder.event(pdb, WARNING, "CalculateExpectedPodCountFailed",
                                f"Failed to calculate the number of expected pods: {error}")
        if status != (pdb.get("status") or {}):
            try:
                await self.client.update(PODDISRUPTIONBUDGETS,
                                         {**pdb, "status": status}, ns, subresource="status")
            except StatusError as exc:
                if exc.code not in (404, 409):
                    raise
                self.queue.add_after(key, 0.2)
        if status.get("disruptedPods"):
            self.queue.add_after(key, DELETION_TIMEOUT.total_seconds())
