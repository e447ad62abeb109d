"""The DaemonSet controller: one daemon pod on every node that should run it.

Contracts:
- :func:`plan` is pure: from a DaemonSet, the nodes and the pods of its namespace it gives
  the nodes to create a pod for, the pods to delete (on nodes that should not run one,
  failed ones, duplicates beyond the oldest, and old-revision pods a RollingUpdate may
  replace within ``maxUnavailable``) and the status;
- a daemon pod carries the template's labels plus ``controller-revision-hash`` (the hash of
  the template, see :mod:`~kubelite.controllers.hashing`) and ``pod-template-generation``,
  the default daemon tolerations, and node affinity ``metadata.name In [node]`` so the
  scheduler binds it to its node;
- a node with a daemon pod being deleted gets no new pod until that one is gone.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
from dataclasses import dataclass, field

from kubelite.aio.clock import REAL, Clock
from kubelite.api.errors import StatusError
from kubelite.api.meta import JSON, controller_ref
from kubelite.api.nodeaffinity import tolerates
from kubelite.api.selectors import label_selector_from_dict
from kubelite.client.events import EventRecorder
from kubelite.client.informer import Informer, object_key
from kubelite.client.rest import ApiClient
from kubelite.controllers.base import Controller, rv_int
from kubelite.controllers.hashing import compute_hash
from kubelite.controllers.nodes import (
    add_daemon_tolerations,
    matches_node,
    pin_to_node,
    should_run,
)
from kubelite.controllers.ownership import adopt_patch, classify, status_patch
from kubelite.controllers.podcontrol import create_pods, delete_pods
from kubelite.controllers.pods import (
    available_in,
    controller_ref_of,
    creation,
    is_available,
    is_ready,
    labels,
    meta,
    phase,
    uid,
)
from kubelite.controllers.replicaset import pod_from_template
from kubelite.controllers.resources import DAEMONSETS, PODS
from kubelite.controllers.rollout import scaled_value
from kubelite.controllers.wellformed import Quarantine

log = logging.getLogger(__name__)
REVISION_HASH = "controller-revision-hash"
TEMPLATE_GENERATION = "pod-template-generation"


@dataclass
class Plan:
    create_on: list[str] = field(default_factory=list)
    delete: list[JSON] = field(default_factory=list)
    adopt: list[JSON] = field(default_factory=list)
    status: JSON = field(default_factory=dict)
    requeue_after: float | None = None


def target_node(pod: JSON) -> str:
    """The node a daemon pod is for: spec.nodeName, or its node-affinity pin."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return str(spec["nodeName"])
    terms = ((((spec.get("affinity") or {}).get("nodeAffinity") or {})
              .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
             .get("nodeSelectorTerms") or [])
    for term in terms:
        for f in term.get("matchFields") or []:
            if f.get("key") == "metadata.name" and f.get("operator") == "In" and \
                    len(f.get("values") or []) == 1:
                return str(f["values"][0])
    return ""


def should_continue(template_spec: JSON, node: JSON) -> bool:
    """An existing daemon pod stays while the node matches and its NoExecute taints are
    tolerated (NoSchedule taints only keep new pods away)."""
    spec = copy.deepcopy(template_spec)
    add_daemon_tolerations(spec)
    if not matches_node(spec, node):
        return False
    tols = spec.get("tolerations") or []
    return all(any(tolerates(t, taint) for t in tols)
               for taint in (node.get("spec") or {}).get("taints") or []
               if taint.get("effect") == "NoExecute")


def template_hash(ds: JSON) -> str:
    return compute_hash((ds.get("spec") or {}).get("template") or {},
                        (ds.get("status") or {}).get("collisionCount"))


def plan(ds: JSON, nodes: list[JSON], pods: list[JSON], now: dt.datetime) -> Plan:
    spec = ds.get("spec") or {}
    template_spec = (spec.get("template") or {}).get("spec") or {}
    selector = label_selector_from_dict(spec.get("selector"))
    claim = classify(ds, selector, pods)
    out = Plan(adopt=claim.adopt)
    current_hash = template_hash(ds)
    mrs = int(spec.get("minReadySeconds") or 0)
    by_node: dict[str, list[JSON]] = {}
    for p in [*claim.owned, *claim.adopt]:
        by_node.setdefault(target_node(p), []).append(p)
    desired = current = misscheduled = ready = available = updated = 0
    deleting_ds = bool(meta(ds).get("deletionTimestamp"))
    rolling_candidates: list[tuple[str, JSON, JSON | None]] = []
    unavailable_nodes = 0
    waits: list[float] = []
    known = set()
    for node in nodes:
        name = str((node.get("metadata") or {}).get("name") or "")
        known.add(name)
        on_node = sorted(by_node.get(name, []), key=lambda p: (creation(p), meta(p).get("name")))
        live = [p for p in on_node if not meta(p).get("deletionTimestamp")]
        run = should_run(template_spec, node)
        keep = run or should_continue(template_spec, node)
        if run:
            desired += 1
        if keep and on_node:
            if run:
                current += 1
        elif on_node:
            misscheduled += 1
        if not keep:
            out.delete.extend(live)
            continue
        if not on_node:
            if run:
                out.create_on.append(name)
                unavailable_nodes += 1
            continue
        failed = [p for p in live if phase(p) == "Failed"]
        out.delete.extend(failed)
        running = [p for p in live if phase(p) != "Failed"]
        if len(running) > 1:
            out.delete.extend(running[1:])
        first = running[0] if running else None
        if first is not None and is_ready(first):
            ready += 1
        if first is not None and is_available(first, mrs, now):
            available += 1
        elif first is not None:
            w = available_in(first, mrs, now)
            if w is not None:
                waits.append(w)
        if first is not None and labels(first).get(REVISION_HASH) == current_hash:
            updated += 1
        if first is None or not is_available(first, mrs, now):
            unavailable_nodes += 1
        if first is not None and labels(first).get(REVISION_HASH) != current_hash:
            rolling_candidates.append((name, first, None))
    # pods for nodes that are gone
    for node_name, ps in by_node.items():
        if node_name and node_name not in known:
            out.delete.extend(p for p in ps if not meta(p).get("deletionTimestamp"))
    if deleting_ds:
        out.create_on = []
        out.delete = []
    strategy = spec.get("updateStrategy") or {}
    if not deleting_ds and strategy.get("type", "RollingUpdate") == "RollingUpdate":
        max_unavailable = scaled_value(
            (strategy.get("rollingUpdate") or {}).get("maxUnavailable", 1), desired, True)
        budget = max_unavailable - unavailable_nodes
        for _, old_pod, _ in rolling_candidates:
            if not is_available(old_pod, mrs, now):
                out.delete.append(old_pod)  # an unavailable old pod costs nothing to replace
            elif budget > 0:
                out.delete.append(old_pod)
                budget -= 1
    status: JSON = {
        "currentNumberScheduled": current, "numberMisscheduled": misscheduled,
        "desiredNumberScheduled": desired, "numberReady": ready,
    }
    generation = meta(ds).get("generation")
    if generation:
        status["observedGeneration"] = generation
    if updated:
        status["updatedNumberScheduled"] = updated
    if available:
        status["numberAvailable"] = available
    if desired - available > 0:
        status["numberUnavailable"] = desired - available
    old = ds.get("status") or {}
    for k in ("collisionCount", "conditions"):
        if old.get(k) is not None:
            status[k] = old[k]
    out.status = status
    if waits:
        out.requeue_after = min(waits) + 0.05
    seen: set[str] = set()
    unique = []
    for p in out.delete:
        if uid(p) not in seen:
            seen.add(uid(p))
            unique.append(p)
    out.delete = unique
    return out


def daemon_pod(ds: JSON, node_name: str, pod_hash: str) -> JSON:
    template = copy.deepcopy((ds.get("spec") or {}).get("template") or {})
    tmeta = template.setdefault("metadata", {})
    tmeta["labels"] = {**(tmeta.get("labels") or {}), REVISION_HASH: pod_hash,
                       TEMPLATE_GENERATION: str(meta(ds).get("generation") or 1)}
    pod = pod_from_template(ds, template)
    add_daemon_tolerations(pod["spec"])
    pin_to_node(pod["spec"], node_name)
    return pod


class DaemonSetController(Controller):
    name = "daemonset-controller"

    def __init__(self, client: ApiClient, daemonsets: Informer, pods: Informer,
                 nodes: Informer, recorder: EventRecorder, *, clock: Clock = REAL,
                 workers: int = 2) -> None:
        super().__init__(workers, clock)
        self.client = client
        self.dses = daemonsets
        self.pods = pods
        self.nodes = nodes
        self.recorder = recorder
        self.quarantine = Quarantine(self.name)

    def register(self) -> None:
        self.dses.add_handlers(on_add=self._enqueue, on_update=lambda o, n: self._enqueue(n),
                               on_delete=self._enqueue)
        self.pods.add_handlers(on_add=self._pod_changed,
                               on_update=lambda o, n: self._pod_changed(n),
                               on_delete=self._pod_changed)
        self.nodes.add_handlers(on_add=lambda n: self._all(),
                                on_update=lambda o, n: self._node_updated(o, n),
                                on_delete=lambda n: self._all())

    def _enqueue(self, obj: JSON) -> None:
        self.queue.add(object_key(obj))

    def _all(self) -> None:
        for ds in self.dses.list():
            self._enqueue(ds)

    def _node_updated(self, old: JSON, new: JSON) -> None:
        if (labels(old) != labels(new) or (old.get("spec") or {}) != (new.get("spec") or {})
                or _ready(old) != _ready(new)):
            self._all()

    def _pod_changed(self, pod: JSON) -> None:
        if not self.quarantine.ok(pod):
            return
        ref = controller_ref_of(pod)
        if ref is not None and ref.get("kind") == "DaemonSet":
            self.queue.add(f"{meta(pod).get('namespace')}/{ref.get('name')}")

    async def sync(self, key: str) -> None:
        ds = self.dses.get(key)
        if ds is None or not self.quarantine.ok(ds):
            return
        ns = str(meta(ds).get("namespace") or "")
        pods = self.quarantine.filter(p for p in self.pods.list()
                                      if meta(p).get("namespace") == ns)
        now = self.clock()
        p = plan(ds, self.quarantine.filter(self.nodes.list()), pods, now)
        last_rv = 0
        for pod in p.adopt:
            try:
                out = await self.client.patch(PODS, meta(pod)["name"],
                                              adopt_patch(controller_ref(ds), pod), ns)
                last_rv = max(last_rv, rv_int(out))
            except StatusError as exc:
                if exc.code not in (404, 409, 422):
                    raise
        if p.create_on:
            last_rv = max(last_rv, await self._create(ds, p.create_on))
        if p.delete:
            last_rv = max(last_rv, await self._delete(ds, p.delete))
        if p.status != (ds.get("status") or {}):
            try:
                await self.client.patch(DAEMONSETS, meta(ds)["name"],
                                        status_patch(ds.get("status"), p.status), ns,
                                        subresource="status")
            except StatusError as exc:
                if exc.code != 404:
                    raise
        if last_rv:
            await self.caught_up(self.pods, last_rv)
        if p.requeue_after is not None:
            self.queue.add_after(key, p.requeue_after)

    async def _create(self, ds: JSON, nodes: list[str]) -> int:
        pod_hash = template_hash(ds)
        _, _, last_rv = await create_pods(self.client, self.recorder, ds,
                                          [daemon_pod(ds, n, pod_hash) for n in nodes])
        return last_rv  # a refusal ends this round; the next sync retries

    async def _delete(self, ds: JSON, pods: list[JSON]) -> int:
        return await delete_pods(self.client, self.recorder, ds, pods)


def _ready(node: JSON) -> bool:
    for c in (node.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return bool(c.get("status") == "True")
    return False
