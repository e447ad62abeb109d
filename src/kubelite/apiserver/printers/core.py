"""The printers of core/v1 (and coordination.k8s.io Lease): ``kubectl get`` columns.

As ``pkg/printers/internalversion`` (Kubernetes 1.32): pods (with kubectl's STATUS
logic, :func:`pod_status`), services, endpoints, events, nodes, namespaces, secrets,
config maps, service accounts and leases. Pure functions of the object and ``now``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from kubelite.api.meta import JSON, dig
from kubelite.api.meta_time import rfc3339
from kubelite.api.selectors import format_labels
from kubelite.apiserver.printers.humanize import since
from kubelite.apiserver.printers.table_docs import DOC
from kubelite.apiserver.printers.tables import (
    AGE_COL,
    Cells,
    Printer,
    age_cell,
    col,
    int_of,
    list_at,
    map_at,
    name_col,
    name_of,
    text_at,
    time_of,
)

# -- pods ------------------------------------------------------------------------------

_POD_SUCCEEDED = [{"type": "Completed", "status": "True", "reason": "Succeeded",
                   "message": "The pod has completed successfully."}]
_POD_FAILED = [{"type": "Completed", "status": "True", "reason": "Failed",
                "message": "The pod failed."}]


def _later(current: dt.datetime | None, stamp: Any) -> dt.datetime | None:
    t = time_of(stamp)
    if t is None:
        return current
    return t if current is None or current < t else current


def _terminated_reason(term: JSON, prefix: str) -> str:
    if term.get("reason"):
        return prefix + str(term["reason"])
    if _n(term.get("signal")):
        return f"{prefix}Signal:{_n(term.get('signal'))}"
    return f"{prefix}ExitCode:{_n(term.get('exitCode'))}"


def _condition_true(conditions: list[Any], type_: str) -> bool:
    for c in conditions:
        if isinstance(c, dict) and c.get("type") == type_:
            return bool(c.get("status") == "True")
    return False


def _o(value: Any) -> JSON:
    return value if isinstance(value, dict) else _EMPTY


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else _NONE


_EMPTY: JSON = {}
_NONE: list[Any] = []


def _n(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def pod_status(pod: JSON, now: dt.datetime) -> tuple[str, str, str]:
    """The READY, STATUS and RESTARTS cells of a pod, as ``kubectl get pods`` shows them.

    STATUS is ``status.reason`` or the phase, overridden while init containers run
    (``Init:1/2``, ``Init:Error``, ``Init:CrashLoopBackOff``), by a container's waiting or
    terminated reason (``ContainerCreating``, ``CrashLoopBackOff``, ``Completed``,
    ``Error``, ``ExitCode:3``), ``Terminating`` once deleted, ``Unknown`` for pods of a
    lost node. RESTARTS reads ``2 (5h ago)`` once a container has restarted.
    """
    spec = _o(pod.get("spec"))
    status = _o(pod.get("status"))
    conditions = _l(status.get("conditions"))
    inits = [c for c in _l(spec.get("initContainers")) if isinstance(c, dict)]
    restartable = {c.get("name") for c in inits if c.get("restartPolicy") == "Always"}

    total = len(_l(spec.get("containers"))) + sum(
        1 for c in inits if c.get("restartPolicy") == "Always")
    ready = 0
    restarts = 0
    restartable_restarts = 0
    last_restart: dt.datetime | None = None
    last_restartable: dt.datetime | None = None

    phase = str(status.get("phase") or "")
    reason = str(status.get("reason") or "") or phase
    for c in conditions:
        if _o(c).get("type") == "PodScheduled" and _o(c).get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    initializing = False
    for i, raw in enumerate(_l(status.get("initContainerStatuses"))):
        cs = _o(raw)
        count = _n(cs.get("restartCount"))
        restarts += count
        last_term = _o(_o(cs.get("lastState")).get("terminated"))
        if last_term:
            last_restart = _later(last_restart, last_term.get("finishedAt"))
        is_restartable = cs.get("name") in restartable
        if is_restartable:
            restartable_restarts += count
            if last_term:
                last_restartable = _later(last_restartable, last_term.get("finishedAt"))
        state = _o(cs.get("state"))
        term = state.get("terminated")
        waiting = state.get("waiting")
        if isinstance(term, dict) and _n(term.get("exitCode")) == 0:
            continue
        if is_restartable and cs.get("started") is True:
            if cs.get("ready") is True:
                ready += 1
            continue
        if isinstance(term, dict):
            reason = _terminated_reason(term, "Init:")
        elif (isinstance(waiting, dict) and waiting.get("reason")
              and waiting.get("reason") != "PodInitializing"):
            reason = "Init:" + str(waiting["reason"])
        else:
            reason = f"Init:{i}/{len(inits)}"
        initializing = True
        break

    if not initializing or _condition_true(conditions, "Initialized"):
        restarts = restartable_restarts
        last_restart = last_restartable
        has_running = False
        for raw in reversed(_l(status.get("containerStatuses"))):
            cs = _o(raw)
            restarts += _n(cs.get("restartCount"))
            last_term = _o(_o(cs.get("lastState")).get("terminated"))
            if last_term:
                last_restart = _later(last_restart, last_term.get("finishedAt"))
            state = _o(cs.get("state"))
            term = state.get("terminated")
            waiting = state.get("waiting")
            if isinstance(waiting, dict) and waiting.get("reason"):
                reason = str(waiting["reason"])
            elif isinstance(term, dict):
                reason = _terminated_reason(term, "")
            elif cs.get("ready") is True and isinstance(state.get("running"), dict):
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(conditions, "Ready") else "NotReady"

    if _o(pod.get("metadata")).get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"

    restarts_text = str(restarts)
    if restarts != 0 and last_restart is not None:
        restarts_text = f"{restarts} ({since(rfc3339(last_restart), now)} ago)"
    return f"{ready}/{total}", reason, restarts_text


def _pod_ip(status: JSON) -> str:
    if status.get("podIP"):
        return str(status["podIP"])
    ips = _l(status.get("podIPs"))
    return str(_o(ips[0]).get("ip") or "") if ips else ""


def _pod_cells(pod: JSON, now: dt.datetime) -> Cells:
    ready, reason, restarts = pod_status(pod, now)
    spec = _o(pod.get("spec"))
    status = _o(pod.get("status"))
    meta = _o(pod.get("metadata"))
    gates = [g for g in _l(spec.get("readinessGates")) if isinstance(g, dict)]
    gates_text = "<none>"
    if gates:
        conditions = [c for c in _l(status.get("conditions")) if isinstance(c, dict)]
        true = 0
        for g in gates:
            for c in conditions:
                if c.get("type") == g.get("conditionType"):
                    true += c.get("status") == "True"
                    break
        gates_text = f"{true}/{len(gates)}"
    return [
        str(meta.get("name") or ""), ready, reason, restarts,
        since(meta.get("creationTimestamp"), now),
        _pod_ip(status) or "<none>",
        str(spec.get("nodeName") or "") or "<none>",
        str(status.get("nominatedNodeName") or "") or "<none>",
        gates_text,
    ]


def _pod_conditions(pod: JSON) -> list[JSON] | None:
    phase = text_at(pod, "status", "phase")
    if phase == "Succeeded":
        return [dict(c) for c in _POD_SUCCEEDED]
    if phase == "Failed":
        return [dict(c) for c in _POD_FAILED]
    return None


POD = Printer(
    (
        name_col(),
        col("Ready", "The aggregate readiness state of this pod for accepting traffic."),
        col("Status", "The aggregate status of the containers in this pod."),
        col("Restarts", "The number of times the containers in this pod have been restarted "
                         "and when the last container in this pod has restarted."),
        AGE_COL,
        col("IP", DOC["POD_IP"], priority=1),
        col("Node", DOC["POD_NODE"], priority=1),
        col("Nominated Node", DOC["POD_NOMINATED"], priority=1),
        col("Readiness Gates", DOC["POD_GATES"], priority=1),
    ),
    _pod_cells,
    _pod_conditions,
)



# -- services and endpoints --------------------------------------------------------------

def _service_external_ip(spec: JSON, status: JSON) -> str:
    external = [str(ip) for ip in list_at(spec, "externalIPs")]
    kind = text_at(spec, "type") or "ClusterIP"
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else "<none>"
    if kind == "LoadBalancer":
        seen: set[str] = set()
        for ing in list_at(status, "loadBalancer", "ingress"):
            if text_at(ing, "ip"):
                seen.add(text_at(ing, "ip"))
            elif text_at(ing, "hostname"):
                seen.add(text_at(ing, "hostname"))
        lb = sorted(seen)
        if external:
            return ",".join([*lb, *external])
        return ",".join(lb) if lb else "<pending>"
    if kind == "ExternalName":
        return text_at(spec, "externalName")
    return "<unknown>"


def _service_cells(obj: JSON, now: dt.datetime) -> Cells:
    spec = map_at(obj, "spec")
    ips = list_at(spec, "clusterIPs")
    cluster_ip = str(ips[0]) if ips else (text_at(spec, "clusterIP") or "<none>")
    ports = []
    for p in list_at(spec, "ports"):
        proto = text_at(p, "protocol") or "TCP"
        node_port = int_of(p, "nodePort")
        if node_port > 0:
            ports.append(f"{int_of(p, 'port')}:{node_port}/{proto}")
        else:
            ports.append(f"{int_of(p, 'port')}/{proto}")
    return [
        name_of(obj), text_at(spec, "type") or "ClusterIP", cluster_ip,
        _service_external_ip(spec, map_at(obj, "status")), ",".join(ports) or "<none>",
        age_cell(obj, now), format_labels(map_at(spec, "selector")),
    ]


SERVICE = Printer(
    (
        name_col(),
        col("Type", DOC["SVC_TYPE"]),
        col("Cluster-IP", DOC["SVC_CLUSTER_IP"]),
        col("External-IP", DOC["SVC_EXTERNAL_IPS"]),
        col("Port(s)", DOC["SVC_PORTS"]),
        AGE_COL,
        col("Selector", DOC["SVC_SELECTOR"], priority=1),
    ),
    _service_cells,
)


def _host_port(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def format_endpoints(endpoints: JSON) -> str:
    """The ENDPOINTS cell: up to three ``ip:port``, then ``+ N more...``."""
    subsets = list_at(endpoints, "subsets")
    if not subsets:
        return "<none>"
    shown: list[str] = []
    limit, more, count = 3, False, 0
    for ss in subsets:
        addresses = [text_at(a, "ip") for a in list_at(ss, "addresses")]
        ports = list_at(ss, "ports")
        if not ports:
            count += len(addresses)
            for ip in addresses:
                if len(shown) == limit:
                    more = True
                    break
                shown.append(ip)
            continue
        for port in ports:
            count += len(addresses)
            for ip in addresses:
                if len(shown) == limit:
                    more = True
                    break
                shown.append(_host_port(ip, int_of(port, "port")))
    text = ",".join(shown)
    return f"{text} + {count - limit} more..." if more else text


ENDPOINTS = Printer(
    (name_col(), col("Endpoints", DOC["EP_SUBSETS"]), AGE_COL),
    lambda obj, now: [name_of(obj), format_endpoints(obj), age_cell(obj, now)],
)


# -- events ----------------------------------------------------------------------------

def _event_cells(ev: JSON, now: dt.datetime) -> Cells:
    # core/v1 names first, then the events.k8s.io/v1 spellings of the same fields
    regarding = map_at(ev, "involvedObject") or map_at(ev, "regarding")
    source = map_at(ev, "source") or map_at(ev, "deprecatedSource")
    first_ts = text_at(ev, "firstTimestamp") or text_at(ev, "deprecatedFirstTimestamp")
    last_ts = text_at(ev, "lastTimestamp") or text_at(ev, "deprecatedLastTimestamp")
    count = int_of(ev, "count") or int_of(ev, "deprecatedCount")
    message = text_at(ev, "message") if "message" in ev else text_at(ev, "note")
    controller = text_at(ev, "reportingComponent") or text_at(ev, "reportingController")

    first = since(first_ts, now) if first_ts else since(text_at(ev, "eventTime"), now)
    last = since(last_ts, now) if last_ts else first
    series = dig(ev, "series")
    if isinstance(series, dict):
        last = since(text_at(series, "lastObservedTime"), now)
        count = int_of(series, "count")
    elif count == 0:
        count = 1
    kind = text_at(regarding, "kind").lower()
    target = f"{kind}/{text_at(regarding, 'name')}" if text_at(regarding, "name") else kind
    component = text_at(source, "component") or controller
    instance = text_at(source, "host") or text_at(ev, "reportingInstance")
    source_text = f"{component}, {instance}" if instance else component
    return [
        last, text_at(ev, "type"), text_at(ev, "reason"), target, text_at(regarding, "fieldPath"),
        source_text, message.strip(), first, count, name_of(ev),
    ]


EVENT = Printer(
    (
        col("Last Seen", DOC["EV_LAST"]),
        col("Type", DOC["EV_TYPE"]),
        col("Reason", DOC["EV_REASON"]),
        col("Object", DOC["EV_OBJECT"]),
        col("Subobject", DOC["EV_SUBOBJECT"], priority=1),
        col("Source", DOC["EV_SOURCE"], priority=1),
        col("Message", DOC["EV_MESSAGE"]),
        col("First Seen", DOC["EV_FIRST"], priority=1),
        col("Count", DOC["EV_COUNT"], priority=1),
        name_col(priority=1),
    ),
    _event_cells,
)


# -- cluster objects -----------------------------------------------------------------------

_ROLE_PREFIX = "node-role.kubernetes.io/"


def node_roles(labels: Mapping[str, str]) -> list[str]:
    """Roles from ``node-role.kubernetes.io/<role>`` keys and ``kubernetes.io/role``."""
    roles: set[str] = set()
    for k, v in labels.items():
        if k.startswith(_ROLE_PREFIX):
            role = k[len(_ROLE_PREFIX):]
            if role:
                roles.add(role)
        elif k == "kubernetes.io/role" and v:
            roles.add(str(v))
    return sorted(roles)


def _node_address(node: JSON, kind: str) -> str:
    for a in list_at(node, "status", "addresses"):
        if text_at(a, "type") == kind:
            return text_at(a, "address")
    return "<none>"


def _node_cells(node: JSON, now: dt.datetime) -> Cells:
    status: list[str] = []
    for c in list_at(node, "status", "conditions"):
        if text_at(c, "type") == "Ready":
            status = ["Ready" if text_at(c, "status") == "True" else "NotReady"]
    if not status:
        status = ["Unknown"]
    if dig(node, "spec", "unschedulable") is True:
        status.append("SchedulingDisabled")
    info = map_at(node, "status", "nodeInfo")
    return [
        name_of(node), ",".join(status),
        ",".join(node_roles(map_at(node, "metadata", "labels"))) or "<none>",
        age_cell(node, now), text_at(info, "kubeletVersion"),
        _node_address(node, "InternalIP"), _node_address(node, "ExternalIP"),
        text_at(info, "osImage") or "<unknown>", text_at(info, "kernelVersion") or "<unknown>",
        text_at(info, "containerRuntimeVersion") or "<unknown>",
    ]


NODE = Printer(
    (
        name_col(),
        col("Status", "The status of the node"),
        col("Roles", "The roles of the node"),
        AGE_COL,
        col("Version", DOC["NODE_VERSION"]),
        col("Internal-IP", DOC["NODE_ADDRESSES"], priority=1),
        col("External-IP", DOC["NODE_ADDRESSES"], priority=1),
        col("OS-Image", DOC["NODE_OS"], priority=1),
        col("Kernel-Version", DOC["NODE_KERNEL"], priority=1),
        col("Container-Runtime", DOC["NODE_RUNTIME"], priority=1),
    ),
    _node_cells,
)

NAMESPACE = Printer(
    (name_col(), col("Status", "The status of the namespace"), AGE_COL),
    lambda obj, now: [name_of(obj), text_at(obj, "status", "phase"), age_cell(obj, now)],
)


def _secret_data_count(obj: JSON) -> int:
    return len(set(map_at(obj, "data")) | set(map_at(obj, "stringData")))


SECRET = Printer(
    (name_col(), col("Type", DOC["SECRET_TYPE"]), col("Data", DOC["SECRET_DATA"]), AGE_COL),
    lambda obj, now: [name_of(obj), text_at(obj, "type") or "Opaque", _secret_data_count(obj),
                      age_cell(obj, now)],
)

CONFIGMAP = Printer(
    (name_col(), col("Data", DOC["CM_DATA"]), AGE_COL),
    lambda obj, now: [name_of(obj), len(map_at(obj, "data")) + len(map_at(obj, "binaryData")),
                      age_cell(obj, now)],
)

SERVICEACCOUNT = Printer(
    (name_col(), col("Secrets", DOC["SA_SECRETS"]), AGE_COL),
    lambda obj, now: [name_of(obj), len(list_at(obj, "secrets")), age_cell(obj, now)],
)

LEASE = Printer(
    (name_col(), col("Holder", DOC["LEASE_HOLDER"]), AGE_COL),
    lambda obj, now: [name_of(obj), text_at(obj, "spec", "holderIdentity"), age_cell(obj, now)],
)


