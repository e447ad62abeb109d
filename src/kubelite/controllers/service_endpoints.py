"""The pure half of the Endpoints and EndpointSlice controllers: from a Service and the
pods of its namespace, what its Endpoints subsets and its EndpointSlices should hold.

Contracts (as kube's ``endpoints_controller`` and ``endpointslice`` reconciler):
- a pod counts when its labels match the selector, it has a pod IP and is not terminal
  (Succeeded or Failed);
- Endpoints leave terminating pods out (unless ``publishNotReadyAddresses``) and put pods
  that are not Ready under ``notReadyAddresses``;
- EndpointSlices keep terminating pods with ``ready: false, terminating: true``; ``serving``
  is the pod's Ready condition, ``ready`` is serving and not terminating (always true with
  ``publishNotReadyAddresses``);
- a named targetPort is the container port of that name and protocol in each pod (a pod
  without one is left out for that port), a number is used as it is;
- ``hostname`` is the pod's ``spec.hostname`` when its ``spec.subdomain`` names the Service;
- addresses are sorted by IP, slices by their ports; a Service without a selector is
  left alone (its Endpoints are the user's).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubelite.api.meta import JSON
from kubelite.controllers.pods import is_ready, labels, meta, phase

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"
HEADLESS_LABEL = "service.kubernetes.io/headless"
MAX_ENDPOINTS_PER_SLICE = 100  # kube-controller-manager's --max-endpoints-per-slice


def _spec(obj: JSON) -> JSON:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def selects(service: JSON, pod: JSON) -> bool:
    """Whether the Service's selector (a map: every pair must match) selects the pod; an
    empty or absent selector selects nothing here."""
    selector = _spec(service).get("selector")
    if not selector or not isinstance(selector, dict):
        return False
    pod_labels = labels(pod)
    return all(pod_labels.get(k) == v for k, v in selector.items())


def pod_ip(pod: JSON) -> str:
    return str((pod.get("status") or {}).get("podIP") or "")


def counts(pod: JSON) -> bool:
    """Whether the pod may be an endpoint at all (``ShouldPodBeInEndpoints``): it has an
    IP and is not terminal."""
    return bool(pod_ip(pod)) and phase(pod) not in ("Succeeded", "Failed")


def target_port(service_port: JSON, pod: JSON) -> int | None:
    """The pod's port for this Service port (``podutil.FindPort``), None if it has none."""
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int) and not isinstance(target, bool):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    protocol = service_port.get("protocol", "TCP")
    for c in _spec(pod).get("containers") or []:
        for cp in c.get("ports") or []:
            if cp.get("name") == target and cp.get("protocol", "TCP") == protocol:
                return int(cp["containerPort"])
    return None


def _endpoint_port(service_port: JSON, number: int) -> JSON:
    out: JSON = {"port": number, "protocol": service_port.get("protocol", "TCP")}
    if service_port.get("name"):
        out = {"name": service_port["name"], **out}
    if service_port.get("appProtocol"):
        out["appProtocol"] = service_port["appProtocol"]
    return out


def _target_ref(pod: JSON) -> JSON:
    m = meta(pod)
    return {"kind": "Pod", "namespace": m.get("namespace", ""), "name": m.get("name", ""),
            "uid": m.get("uid", "")}


def _hostname(service: JSON, pod: JSON) -> str:
    spec = _spec(pod)
    if spec.get("hostname") and spec.get("subdomain") == meta(service).get("name"):
        return str(spec["hostname"])
    return ""


def _ip_key(ip: str) -> tuple[int, int]:
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return (9, 0)
    return (addr.version, int(addr))


@dataclass(frozen=True)
class Member:
    """One selected pod, with what both controllers derive from it."""

    pod: JSON
    ports: tuple[tuple[tuple[str, Any], ...], ...]  # its endpoint ports, frozen
    serving: bool
    terminating: bool


def members(service: JSON, pods: Iterable[JSON]) -> list[Member]:
    """The pods the Service selects that count, sorted by IP, with their ports."""
    out = []
    service_ports = [p for p in _spec(service).get("ports") or [] if isinstance(p, dict)]
    for pod in pods:
        if meta(pod).get("namespace") != meta(service).get("namespace"):
            continue
        if not selects(service, pod) or not counts(pod):
            continue
        ports = []
        for sp in service_ports:
            number = target_port(sp, pod)
            if number is not None:
                ports.append(tuple(_endpoint_port(sp, number).items()))
        if service_ports and not ports:
            continue
        out.append(Member(pod, tuple(ports), is_ready(pod),
                          bool(meta(pod).get("deletionTimestamp"))))
    out.sort(key=lambda m: _ip_key(pod_ip(m.pod)))
    return out


# -- Endpoints ---------------------------------------------------------------------------

def _address(service: JSON, pod: JSON) -> JSON:
    out: JSON = {"ip": pod_ip(pod)}
    hostname = _hostname(service, pod)
    if hostname:
        out["hostname"] = hostname
    if _spec(pod).get("nodeName"):
        out["nodeName"] = _spec(pod)["nodeName"]
    out["targetRef"] = _target_ref(pod)
    return out


def desired_subsets(service: JSON, pods: Iterable[JSON]) -> list[JSON]:
    """The Endpoints ``subsets``: one per distinct set of ports, ready addresses apart
    from not-ready ones (``RepackSubsets``)."""
    tolerate = bool(_spec(service).get("publishNotReadyAddresses"))
    groups: dict[tuple[Any, ...], tuple[list[JSON], list[JSON]]] = {}
    for m in members(service, pods):
        if m.terminating and not tolerate:
            continue
        ready, not_ready = groups.setdefault(m.ports, ([], []))
        (ready if (m.serving or tolerate) else not_ready).append(_address(service, m.pod))
    subsets = []
    for ports, (ready, not_ready) in groups.items():
        subset: JSON = {}
        if ready:
            subset["addresses"] = ready
        if not_ready:
            subset["notReadyAddresses"] = not_ready
        if ports:
            subset["ports"] = sorted((dict(p) for p in ports),
                                     key=lambda p: (p.get("name", ""), p["port"]))
        subsets.append(subset)
    subsets.sort(key=lambda s: [(p.get("name", ""), p["port"]) for p in s.get("ports", [])])
    return subsets


def endpoints_labels(service: JSON) -> dict[str, str]:
    """The Service's labels, plus the headless mark (kube copies them to Endpoints)."""
    out = dict(meta(service).get("labels") or {})
    if _spec(service).get("clusterIP") == "None":
        out[HEADLESS_LABEL] = ""
    return out


# -- EndpointSlices ----------------------------------------------------------------------

def slice_endpoint(service: JSON, m: Member, zones: Mapping[str, str]) -> JSON:
    tolerate = bool(_spec(service).get("publishNotReadyAddresses"))
    ready = tolerate or (m.serving and not m.terminating)
    out: JSON = {"addresses": [pod_ip(m.pod)],
                 "conditions": {"ready": ready, "serving": m.serving,
                                "terminating": m.terminating}}
    hostname = _hostname(service, m.pod)
    if hostname:
        out["hostname"] = hostname
    out["targetRef"] = _target_ref(m.pod)
    node = _spec(m.pod).get("nodeName")
    if node:
        out["nodeName"] = node
        if zones.get(node):
            out["zone"] = zones[node]
    return out


@dataclass(frozen=True)
class SliceContent:
    """What one EndpointSlice holds: its ports and endpoints (None ports: a placeholder)."""

    ports: list[JSON] | None
    endpoints: list[JSON]


def desired_slices(service: JSON, pods: Iterable[JSON],
                   zones: Mapping[str, str] | None = None) -> list[SliceContent]:
    """The IPv4 slices of the Service: endpoints grouped by their ports, at most
    :data:`MAX_ENDPOINTS_PER_SLICE` each; one empty placeholder when there are none."""
    groups: dict[tuple[Any, ...], list[JSON]] = {}
    for m in members(service, pods):
        if ":" in pod_ip(m.pod):
            continue  # single-stack IPv4
        groups.setdefault(m.ports, []).append(slice_endpoint(service, m, zones or {}))
    out = []
    for ports, endpoints in sorted(groups.items(), key=lambda kv: repr(kv[0])):
        for i in range(0, len(endpoints), MAX_ENDPOINTS_PER_SLICE):
            out.append(SliceContent([dict(p) for p in ports],
                                    endpoints[i:i + MAX_ENDPOINTS_PER_SLICE]))
    return out or [SliceContent(None, [])]


def slice_labels(service: JSON) -> dict[str, str]:
    out = endpoints_labels(service)
    out[SERVICE_NAME_LABEL] = str(meta(service).get("name", ""))
    out[MANAGED_BY_LABEL] = MANAGED_BY
    return out


@dataclass
class SlicePlan:
    """Which existing slices to rewrite (name -> content), what to create, what to
    delete."""

    update: dict[str, SliceContent]
    create: list[SliceContent]
    delete: list[str]


def _content_of(es: JSON) -> SliceContent:
    return SliceContent(es.get("ports"), list(es.get("endpoints") or []))


def plan_slices(desired: list[SliceContent], existing: list[JSON],
                wanted_labels: Mapping[str, str]) -> SlicePlan:
    """Match the desired contents to the existing slices: one with the same ports first
    (by name), then any left; a match that already holds it (labels too) is left alone."""
    plan = SlicePlan({}, [], [])
    free = sorted(existing, key=lambda es: str(meta(es).get("name", "")))
    pending = []
    for want in desired:
        same = next((es for es in free if es.get("ports") == want.ports), None)
        if same is None:
            pending.append(want)
            continue
        free.remove(same)
        _keep_or_update(plan, same, want, wanted_labels)
    for want in pending:
        if free:
            _keep_or_update(plan, free.pop(0), want, wanted_labels)
        else:
            plan.create.append(want)
    plan.delete = [str(meta(es).get("name", "")) for es in free]
    return plan


def _keep_or_update(plan: SlicePlan, es: JSON, want: SliceContent,
                    wanted_labels: Mapping[str, str]) -> None:
    have = _content_of(es)
    if have != want or dict(meta(es).get("labels") or {}) != dict(wanted_labels):
        plan.update[str(meta(es).get("name", ""))] = want
