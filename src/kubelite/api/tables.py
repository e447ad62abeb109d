"""Server-side Tables (``meta.k8s.io/v1`` Table) as kube-apiserver's printers build them.

``kubectl get`` asks for a Table and prints its cells verbatim, so the columns, their
order, types, priorities and the cell texts follow ``pkg/printers/internalversion``
(Kubernetes 1.32). The server always renders the wide columns (``priority: 1``); kubectl
shows them with ``-o wide``. Kinds without a printer get the default Name / Created At.

Everything here is a pure function of the objects and ``now`` (a UTC datetime).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubelite.api import errors
from kubelite.api.humanize import since
from kubelite.api.meta_time import parse_time, rfc3339
from kubelite.api.scheme import Resource
from kubelite.api.selectors import format_labels, label_selector_from_dict
from kubelite.api.table_docs import DOC

JSON = dict[str, Any]
Cells = list[Any]

INCLUDE_NONE = "None"
INCLUDE_METADATA = "Metadata"
INCLUDE_OBJECT = "Object"


def _col(name: str, description: str, *, type_: str = "string", fmt: str = "",
         priority: int = 0) -> JSON:
    return {"name": name, "type": type_, "format": fmt, "description": description,
            "priority": priority}


def _name_col(priority: int = 0) -> JSON:
    return _col("Name", DOC["NAME"], fmt="name", priority=priority)


_AGE = _col("Age", DOC["AGE"])
_CONTAINERS = _col("Containers", "Names of each container in the template.", priority=1)
_IMAGES = _col("Images", "Images referenced by each container in the template.", priority=1)


@dataclass(frozen=True)
class Printer:
    """Column definitions and the function that renders one object's cells."""

    columns: tuple[JSON, ...]
    cells: Callable[[JSON, dt.datetime], Cells]
    conditions: Callable[[JSON], list[JSON] | None] | None = None


# -- helpers ---------------------------------------------------------------------------

def _d(obj: Any, *keys: str) -> Any:
    """Walk nested dicts; None when any step is missing or not a dict."""
    cur = obj
    for k in keys:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(k)
    return cur


def _s(obj: Any, *keys: str) -> str:
    v = _d(obj, *keys)
    return "" if v is None else str(v)


def _i(obj: Any, *keys: str, default: int = 0) -> int:
    v = _d(obj, *keys)
    return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else default


def _list(obj: Any, *keys: str) -> list[Any]:
    v = _d(obj, *keys)
    return v if isinstance(v, list) else []


def _map(obj: Any, *keys: str) -> dict[str, Any]:
    v = _d(obj, *keys)
    return v if isinstance(v, dict) else {}


def _name(obj: JSON) -> str:
    return _s(obj, "metadata", "name")


def _age(obj: JSON, now: dt.datetime) -> str:
    return since(_s(obj, "metadata", "creationTimestamp"), now)


def _time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        t = parse_time(value)
    except ValueError:
        return None
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


def _containers(template_spec: Any) -> tuple[str, str]:
    """``layoutContainerCells``: container names and images, comma-joined."""
    cs = [c for c in _list(template_spec, "containers") if isinstance(c, dict)]
    return ",".join(_s(c, "name") for c in cs), ",".join(_s(c, "image") for c in cs)


def _selector_string(selector: Any) -> str | None:
    """``LabelSelectorAsSelector(...).String()``; None when the selector is invalid."""
    try:
        return str(label_selector_from_dict(selector if isinstance(selector, dict) else None))
    except errors.StatusError:
        return None


def _format_label_selector(selector: Any) -> str:
    """``metav1.FormatLabelSelector``: ``<none>`` when empty, ``<error>`` when invalid."""
    text = _selector_string(selector)
    if text is None:
        return "<error>"
    return text or "<none>"


# -- pods ------------------------------------------------------------------------------

_POD_SUCCEEDED = [{"type": "Completed", "status": "True", "reason": "Succeeded",
                   "message": "The pod has completed successfully."}]
_POD_FAILED = [{"type": "Completed", "status": "True", "reason": "Failed",
                "message": "The pod failed."}]


def _later(current: dt.datetime | None, stamp: Any) -> dt.datetime | None:
    t = _time(stamp)
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
    phase = _s(pod, "status", "phase")
    if phase == "Succeeded":
        return [dict(c) for c in _POD_SUCCEEDED]
    if phase == "Failed":
        return [dict(c) for c in _POD_FAILED]
    return None


_POD = Printer(
    (
        _name_col(),
        _col("Ready", "The aggregate readiness state of this pod for accepting traffic."),
        _col("Status", "The aggregate status of the containers in this pod."),
        _col("Restarts", "The number of times the containers in this pod have been restarted "
                         "and when the last container in this pod has restarted."),
        _AGE,
        _col("IP", DOC["POD_IP"], priority=1),
        _col("Node", DOC["POD_NODE"], priority=1),
        _col("Nominated Node", DOC["POD_NOMINATED"], priority=1),
        _col("Readiness Gates", DOC["POD_GATES"], priority=1),
    ),
    _pod_cells,
    _pod_conditions,
)


# -- workloads -------------------------------------------------------------------------

def _deployment_cells(obj: JSON, now: dt.datetime) -> Cells:
    names, images = _containers(_d(obj, "spec", "template", "spec"))
    selector = _selector_string(_d(obj, "spec", "selector"))
    desired = _i(obj, "spec", "replicas", default=1)
    ready = _i(obj, "status", "readyReplicas")
    return [
        _name(obj), f"{ready}/{desired}", _i(obj, "status", "updatedReplicas"),
        _i(obj, "status", "availableReplicas"), _age(obj, now),
        names, images, "<invalid>" if selector is None else selector,
    ]


_DEPLOYMENT = Printer(
    (
        _name_col(),
        _col("Ready", "Number of the pod with ready state"),
        _col("Up-to-date", DOC["DEPLOY_UPDATED"]),
        _col("Available", DOC["DEPLOY_AVAILABLE"]),
        _AGE, _CONTAINERS, _IMAGES,
        _col("Selector", DOC["DEPLOY_SELECTOR"], priority=1),
    ),
    _deployment_cells,
)


def _replicaset_cells(obj: JSON, now: dt.datetime) -> Cells:
    names, images = _containers(_d(obj, "spec", "template", "spec"))
    return [
        _name(obj), _i(obj, "spec", "replicas", default=1), _i(obj, "status", "replicas"),
        _i(obj, "status", "readyReplicas"), _age(obj, now),
        names, images, _format_label_selector(_d(obj, "spec", "selector")),
    ]


_REPLICASET = Printer(
    (
        _name_col(),
        _col("Desired", DOC["RS_DESIRED"], type_="integer"),
        _col("Current", DOC["RS_CURRENT"], type_="integer"),
        _col("Ready", DOC["RS_READY"], type_="integer"),
        _AGE, _CONTAINERS, _IMAGES,
        _col("Selector", DOC["RS_SELECTOR"], priority=1),
    ),
    _replicaset_cells,
)


def _daemonset_cells(obj: JSON, now: dt.datetime) -> Cells:
    template_spec = _d(obj, "spec", "template", "spec")
    names, images = _containers(template_spec)
    return [
        _name(obj),
        _i(obj, "status", "desiredNumberScheduled"), _i(obj, "status", "currentNumberScheduled"),
        _i(obj, "status", "numberReady"), _i(obj, "status", "updatedNumberScheduled"),
        _i(obj, "status", "numberAvailable"),
        format_labels(_map(template_spec, "nodeSelector")), _age(obj, now),
        names, images, _format_label_selector(_d(obj, "spec", "selector")),
    ]


_DAEMONSET = Printer(
    (
        _name_col(),
        _col("Desired", DOC["DS_DESIRED"], type_="integer"),
        _col("Current", DOC["DS_CURRENT"], type_="integer"),
        _col("Ready", DOC["DS_READY"], type_="integer"),
        _col("Up-to-date", DOC["DS_UPDATED"], type_="integer"),
        _col("Available", DOC["DS_AVAILABLE"], type_="integer"),
        _col("Node Selector", DOC["NODE_SELECTOR"]),
        _AGE, _CONTAINERS, _IMAGES,
        _col("Selector", DOC["DS_SELECTOR"], priority=1),
    ),
    _daemonset_cells,
)


# -- services and endpoints --------------------------------------------------------------

def _service_external_ip(spec: JSON, status: JSON) -> str:
    external = [str(ip) for ip in _list(spec, "externalIPs")]
    kind = _s(spec, "type") or "ClusterIP"
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else "<none>"
    if kind == "LoadBalancer":
        seen: set[str] = set()
        for ing in _list(status, "loadBalancer", "ingress"):
            if _s(ing, "ip"):
                seen.add(_s(ing, "ip"))
            elif _s(ing, "hostname"):
                seen.add(_s(ing, "hostname"))
        lb = sorted(seen)
        if external:
            return ",".join([*lb, *external])
        return ",".join(lb) if lb else "<pending>"
    if kind == "ExternalName":
        return _s(spec, "externalName")
    return "<unknown>"


def _service_cells(obj: JSON, now: dt.datetime) -> Cells:
    spec = _map(obj, "spec")
    ips = _list(spec, "clusterIPs")
    cluster_ip = str(ips[0]) if ips else (_s(spec, "clusterIP") or "<none>")
    ports = []
    for p in _list(spec, "ports"):
        proto = _s(p, "protocol") or "TCP"
        node_port = _i(p, "nodePort")
        if node_port > 0:
            ports.append(f"{_i(p, 'port')}:{node_port}/{proto}")
        else:
            ports.append(f"{_i(p, 'port')}/{proto}")
    return [
        _name(obj), _s(spec, "type") or "ClusterIP", cluster_ip,
        _service_external_ip(spec, _map(obj, "status")), ",".join(ports) or "<none>",
        _age(obj, now), format_labels(_map(spec, "selector")),
    ]


_SERVICE = Printer(
    (
        _name_col(),
        _col("Type", DOC["SVC_TYPE"]),
        _col("Cluster-IP", DOC["SVC_CLUSTER_IP"]),
        _col("External-IP", DOC["SVC_EXTERNAL_IPS"]),
        _col("Port(s)", DOC["SVC_PORTS"]),
        _AGE,
        _col("Selector", DOC["SVC_SELECTOR"], priority=1),
    ),
    _service_cells,
)


def _host_port(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def format_endpoints(endpoints: JSON) -> str:
    """The ENDPOINTS cell: up to three ``ip:port``, then ``+ N more...``."""
    subsets = _list(endpoints, "subsets")
    if not subsets:
        return "<none>"
    shown: list[str] = []
    limit, more, count = 3, False, 0
    for ss in subsets:
        addresses = [_s(a, "ip") for a in _list(ss, "addresses")]
        ports = _list(ss, "ports")
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
                shown.append(_host_port(ip, _i(port, "port")))
    text = ",".join(shown)
    return f"{text} + {count - limit} more..." if more else text


_ENDPOINTS = Printer(
    (_name_col(), _col("Endpoints", DOC["EP_SUBSETS"]), _AGE),
    lambda obj, now: [_name(obj), format_endpoints(obj), _age(obj, now)],
)


# -- events ----------------------------------------------------------------------------

def _event_cells(ev: JSON, now: dt.datetime) -> Cells:
    # core/v1 names first, then the events.k8s.io/v1 spellings of the same fields
    regarding = _map(ev, "involvedObject") or _map(ev, "regarding")
    source = _map(ev, "source") or _map(ev, "deprecatedSource")
    first_ts = _s(ev, "firstTimestamp") or _s(ev, "deprecatedFirstTimestamp")
    last_ts = _s(ev, "lastTimestamp") or _s(ev, "deprecatedLastTimestamp")
    count = _i(ev, "count") or _i(ev, "deprecatedCount")
    message = _s(ev, "message") if "message" in ev else _s(ev, "note")
    controller = _s(ev, "reportingComponent") or _s(ev, "reportingController")

    first = since(first_ts, now) if first_ts else since(_s(ev, "eventTime"), now)
    last = since(last_ts, now) if last_ts else first
    series = _d(ev, "series")
    if isinstance(series, dict):
        last = since(_s(series, "lastObservedTime"), now)
        count = _i(series, "count")
    elif count == 0:
        count = 1
    kind = _s(regarding, "kind").lower()
    target = f"{kind}/{_s(regarding, 'name')}" if _s(regarding, "name") else kind
    component = _s(source, "component") or controller
    instance = _s(source, "host") or _s(ev, "reportingInstance")
    source_text = f"{component}, {instance}" if instance else component
    return [
        last, _s(ev, "type"), _s(ev, "reason"), target, _s(regarding, "fieldPath"),
        source_text, message.strip(), first, count, _name(ev),
    ]


_EVENT = Printer(
    (
        _col("Last Seen", DOC["EV_LAST"]),
        _col("Type", DOC["EV_TYPE"]),
        _col("Reason", DOC["EV_REASON"]),
        _col("Object", DOC["EV_OBJECT"]),
        _col("Subobject", DOC["EV_SUBOBJECT"], priority=1),
        _col("Source", DOC["EV_SOURCE"], priority=1),
        _col("Message", DOC["EV_MESSAGE"]),
        _col("First Seen", DOC["EV_FIRST"], priority=1),
        _col("Count", DOC["EV_COUNT"], priority=1),
        _name_col(priority=1),
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
    for a in _list(node, "status", "addresses"):
        if _s(a, "type") == kind:
            return _s(a, "address")
    return "<none>"


def _node_cells(node: JSON, now: dt.datetime) -> Cells:
    status: list[str] = []
    for c in _list(node, "status", "conditions"):
        if _s(c, "type") == "Ready":
            status = ["Ready" if _s(c, "status") == "True" else "NotReady"]
    if not status:
        status = ["Unknown"]
    if _d(node, "spec", "unschedulable") is True:
        status.append("SchedulingDisabled")
    info = _map(node, "status", "nodeInfo")
    return [
        _name(node), ",".join(status),
        ",".join(node_roles(_map(node, "metadata", "labels"))) or "<none>",
        _age(node, now), _s(info, "kubeletVersion"),
        _node_address(node, "InternalIP"), _node_address(node, "ExternalIP"),
        _s(info, "osImage") or "<unknown>", _s(info, "kernelVersion") or "<unknown>",
        _s(info, "containerRuntimeVersion") or "<unknown>",
    ]


_NODE = Printer(
    (
        _name_col(),
        _col("Status", "The status of the node"),
        _col("Roles", "The roles of the node"),
        _AGE,
        _col("Version", DOC["NODE_VERSION"]),
        _col("Internal-IP", DOC["NODE_ADDRESSES"], priority=1),
        _col("External-IP", DOC["NODE_ADDRESSES"], priority=1),
        _col("OS-Image", DOC["NODE_OS"], priority=1),
        _col("Kernel-Version", DOC["NODE_KERNEL"], priority=1),
        _col("Container-Runtime", DOC["NODE_RUNTIME"], priority=1),
    ),
    _node_cells,
)

_NAMESPACE = Printer(
    (_name_col(), _col("Status", "The status of the namespace"), _AGE),
    lambda obj, now: [_name(obj), _s(obj, "status", "phase"), _age(obj, now)],
)


def _secret_data_count(obj: JSON) -> int:
    return len(set(_map(obj, "data")) | set(_map(obj, "stringData")))


_SECRET = Printer(
    (_name_col(), _col("Type", DOC["SECRET_TYPE"]), _col("Data", DOC["SECRET_DATA"]), _AGE),
    lambda obj, now: [_name(obj), _s(obj, "type") or "Opaque", _secret_data_count(obj),
                      _age(obj, now)],
)

_CONFIGMAP = Printer(
    (_name_col(), _col("Data", DOC["CM_DATA"]), _AGE),
    lambda obj, now: [_name(obj), len(_map(obj, "data")) + len(_map(obj, "binaryData")),
                      _age(obj, now)],
)

_SERVICEACCOUNT = Printer(
    (_name_col(), _col("Secrets", DOC["SA_SECRETS"]), _AGE),
    lambda obj, now: [_name(obj), len(_list(obj, "secrets")), _age(obj, now)],
)

_LEASE = Printer(
    (_name_col(), _col("Holder", DOC["LEASE_HOLDER"]), _AGE),
    lambda obj, now: [_name(obj), _s(obj, "spec", "holderIdentity"), _age(obj, now)],
)


def _created_at(obj: JSON) -> str:
    t = _time(_d(obj, "metadata", "creationTimestamp"))
    return rfc3339(t) if t is not None else "0001-01-01T00:00:00Z"


DEFAULT_PRINTER = Printer(
    (_name_col(), _col("Created At", DOC["AGE"], type_="date")),
    lambda obj, _now: [_name(obj), _created_at(obj)],
)

PRINTERS: dict[str, Printer] = {
    "pods": _POD,
    "deployments": _DEPLOYMENT,
    "replicasets": _REPLICASET,
    "daemonsets": _DAEMONSET,
    "services": _SERVICE,
    "endpoints": _ENDPOINTS,
    "events": _EVENT,
    "nodes": _NODE,
    "namespaces": _NAMESPACE,
    "secrets": _SECRET,
    "configmaps": _CONFIGMAP,
    "serviceaccounts": _SERVICEACCOUNT,
    "leases": _LEASE,
}


# -- the Table -----------------------------------------------------------------------------

def printer_for(resource: Resource | str) -> Printer:
    """The printer of a resource (a Resource or its plural); the default for unknown kinds."""
    plural = resource if isinstance(resource, str) else resource.plural
    return PRINTERS.get(plural, DEFAULT_PRINTER)


def column_definitions(resource: Resource | str) -> list[JSON]:
    """The ``columnDefinitions`` of ``resource``'s Table (fresh copies)."""
    return [dict(c) for c in printer_for(resource).columns]


def _row_object(obj: JSON, include_object: str) -> JSON | None:
    if include_object == INCLUDE_NONE:
        return None
    if include_object == INCLUDE_OBJECT:
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": obj.get("metadata") or {}}


def check_include_object(value: str | None) -> str:
    """Normalise the ``includeObject`` query value: ``""`` means ``Metadata``.

    Raises 400 ``unrecognized includeObject value: "X"`` as kube-apiserver does.
    """
    if not value:
        return INCLUDE_METADATA
    if value in (INCLUDE_NONE, INCLUDE_METADATA, INCLUDE_OBJECT):
        return value
    raise errors.bad_request(f'unrecognized includeObject value: "{value}"')


def table_row(resource: Resource | str, obj: JSON, now: dt.datetime,
              include_object: str = INCLUDE_METADATA) -> JSON:
    """One ``TableRow``: cells, row conditions (finished pods) and the row object."""
    printer = printer_for(resource)
    row: JSON = {"cells": printer.cells(obj, now)}
    if printer.conditions is not None:
        conditions = printer.conditions(obj)
        if conditions:
            row["conditions"] = conditions
    row["object"] = _row_object(obj, check_include_object(include_object))
    return row


def build_table(
    resource: Resource | str,
    objects: Iterable[JSON],
    now: dt.datetime,
    include_object: str = INCLUDE_METADATA,
    no_headers: bool = False,
) -> JSON:
    """A ``meta.k8s.io/v1`` Table of ``objects`` for ``kubectl get``.

    Every column is present (wide ones carry ``priority: 1``). Row objects are
    ``PartialObjectMetadata`` (``include_object="Metadata"``, the default), the object
    itself (``"Object"``) or null (``"None"``). ``no_headers`` sets ``columnDefinitions``
    to null, as in the Table events of a watch after the first. ``metadata`` is left
    empty for the caller (resourceVersion, continue).
    """
    include = check_include_object(include_object)
    printer = printer_for(resource)
    cells, conditions = printer.cells, printer.conditions
    rows: list[JSON] = []
    for obj in objects:
        row: JSON = {"cells": cells(obj, now)}
        if conditions is not None and (found := conditions(obj)):
            row["conditions"] = found
        row["object"] = _row_object(obj, include)
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {},
        "columnDefinitions": None if no_headers else [dict(c) for c in printer.columns],
        "rows": rows,
    }
