"""Defaulting as kube-apiserver 1.32 does it, on decoded JSON objects.

Three sources fill in what a manifest leaves out, and this module reproduces each:

- the scheme's defaulting functions (``SetDefaults_*`` of ``core/v1`` and ``apps/v1`` and the
  generated declarative defaults), which run whenever a body is decoded: on create and on
  every update;
- what Go's encoder always writes because the field is a struct rather than a pointer
  (``resources: {}``, ``status: {}``, a template's ``creationTimestamp: null``, the status
  counters of ReplicaSets and DaemonSets), so that ``kubectl get -o yaml`` shows the same
  field set as a real cluster;
The mutating admission plugins enabled by default that touch pods (ServiceAccount,
Priority, DefaultTolerationSeconds) are in ``kubelite.apiserver.admission``; which
defaulter a kind runs is named by its strategy (``kubelite.apiserver.kinds``).

Contracts: each ``default_<kind>`` only adds or normalises fields, never rejects, and
tolerates malformed input (validation reports it afterwards); applying it twice gives the
same object as applying it once. They mutate the object they are given, which must be the
caller's private copy.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubelite.api import quantity
from kubelite.api.image_refs import default_pull_policy
from kubelite.api.meta import JSON

TERMINATION_MESSAGE_PATH = "/dev/termination-log"
DEFAULT_SCHEDULER = "default-scheduler"
DEFAULT_SERVICE_ACCOUNT = "default"
DEFAULT_GRACE_SECONDS = 30
DEFAULT_MODE = 0o644  # 420: secret, configMap, downwardAPI and projected volumes
DEFAULT_TOLERATION_SECONDS = 300
CLIENT_IP_AFFINITY_SECONDS = 10800
TOKEN_EXPIRATION_SECONDS = 3600
MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"

# Built-in PriorityClasses (the only ones kubelite knows) and their values.
SYSTEM_PRIORITY_CLASSES = {
    "system-node-critical": 2000001000,
    "system-cluster-critical": 2000000000,
}
PREEMPT_LOWER_PRIORITY = "PreemptLowerPriority"


def default_priority_class(obj: JSON) -> None:
    """``SetDefaults_PriorityClass``: preemptionPolicy PreemptLowerPriority."""
    if obj.get("preemptionPolicy") is None:
        obj["preemptionPolicy"] = PREEMPT_LOWER_PRIORITY


def system_priority_class(name: str) -> JSON:
    """A built-in PriorityClass as kube-apiserver creates it at start."""
    what = "node" if name == "system-node-critical" else "cluster"
    return {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
            "metadata": {"name": name}, "value": SYSTEM_PRIORITY_CLASSES[name],
            "globalDefault": False, "preemptionPolicy": PREEMPT_LOWER_PRIORITY,
            "description": f"Used for system critical pods that must run in the {what}, "
                           "but can be moved to another node if necessary."
                           if what == "cluster" else
                           "Used for system critical pods that must not be moved from "
                           "their current node."}



# -- helpers over JSON -------------------------------------------------------------------

def _child(parent: Any, key: str) -> JSON | None:
    """``parent[key]`` when it is an object."""
    if isinstance(parent, dict):
        value = parent.get(key)
        if isinstance(value, dict):
            return value
    return None


def _ensure(parent: Any, key: str) -> JSON | None:
    """``parent[key]``, set to ``{}`` when absent or null (a Go struct is never nil)."""
    if not isinstance(parent, dict):
        return None
    value = parent.get(key)
    if value is None:
        value = parent[key] = {}
    return value if isinstance(value, dict) else None


def _items(parent: Any, key: str) -> Iterator[JSON]:
    """The objects of the list ``parent[key]`` (other entries are skipped)."""
    if isinstance(parent, dict):
        value = parent.get(key)
        if isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    yield item


def _unset(obj: JSON, key: str) -> bool:
    """A Go zero value: absent, null, empty string or 0 (not False, which is set)."""
    value = obj.get(key)
    return value is None or value == "" or (value == 0 and not isinstance(value, bool))


def _default(obj: JSON, key: str, value: Any) -> None:
    """Set ``obj[key]`` when it holds the zero value (Go: ``if x == "" {...}``)."""
    if _unset(obj, key):
        obj[key] = value


def _default_ptr(obj: JSON, key: str, value: Any) -> None:
    """Set ``obj[key]`` when absent or null (Go: ``if x == nil {...}``)."""
    if obj.get(key) is None:
        obj[key] = value


# -- pods and pod specs ------------------------------------------------------------------

def _field_ref(holder: Any) -> None:
    ref = _child(holder, "fieldRef")
    if ref is not None:
        _default(ref, "apiVersion", "v1")


def _http_get(action: Any) -> None:
    http = _child(action, "httpGet")
    if http is not None:
        _default(http, "path", "/")
        _default(http, "scheme", "HTTP")


def _probe(probe: JSON) -> None:
    _default(probe, "timeoutSeconds", 1)
    _default(probe, "periodSeconds", 10)
    _default(probe, "successThreshold", 1)
    _default(probe, "failureThreshold", 3)
    _http_get(probe)
    grpc = _child(probe, "grpc")
    if grpc is not None:
        _default_ptr(grpc, "service", "")


def _resource_lists(requirements: JSON | None) -> None:
    """``SetDefaults_ResourceList``: limits and requests rounded up to 1m, canonical."""
    for key in ("limits", "requests"):
        if (resources := _child(requirements, key)) is not None:
            quantity.canonicalize_list(resources)


def _container(ctr: JSON) -> None:
    if _unset(ctr, "imagePullPolicy"):
        image = ctr.get("image")
        ctr["imagePullPolicy"] = default_pull_policy(image if isinstance(image, str) else "")
    _default(ctr, "terminationMessagePath", TERMINATION_MESSAGE_PATH)
    _default(ctr, "terminationMessagePolicy", "File")
    for port in _items(ctr, "ports"):
        _default(port, "protocol", "TCP")
    for env in _items(ctr, "env"):
        _field_ref(_child(env, "valueFrom"))
    resources = _ensure(ctr, "resources")
    _resource_lists(resources)
    for name in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = _child(ctr, name)
        if probe is not None:
            _probe(probe)
    lifecycle = _child(ctr, "lifecycle")
    for name in ("postStart", "preStop"):
        _http_get(_child(lifecycle, name))


def _volume(vol: JSON) -> None:
    if not any(v is not None for k, v in vol.items() if k != "name"):
        vol["emptyDir"] = {}
    if (host_path := _child(vol, "hostPath")) is not None:
        _default_ptr(host_path, "type", "")
    for name in ("secret", "configMap", "downwardAPI", "projected"):
        if (source := _child(vol, name)) is not None:
            _default_ptr(source, "defaultMode", DEFAULT_MODE)
    for item in _items(_child(vol, "downwardAPI"), "items"):
        _field_ref(item)
    for source in _items(_child(vol, "projected"), "sources"):
        for item in _items(_child(source, "downwardAPI"), "items"):
            _field_ref(item)
        if (token := _child(source, "serviceAccountToken")) is not None:
            _default_ptr(token, "expirationSeconds", TOKEN_EXPIRATION_SECONDS)
    claim = _child(_child(vol, "ephemeral"), "volumeClaimTemplate")
    if (claim_spec := _child(claim, "spec")) is not None:
        _default_ptr(claim_spec, "volumeMode", "Filesystem")
        _resource_lists(_child(claim_spec, "resources"))
    empty_dir = _child(vol, "emptyDir")
    if empty_dir is not None and isinstance(empty_dir.get("sizeLimit"), (str, int, float)):
        size = quantity.canonical(empty_dir["sizeLimit"])
        if size is not None:
            empty_dir["sizeLimit"] = size
    if (iscsi := _child(vol, "iscsi")) is not None:
        _default(iscsi, "iscsiInterface", "default")
    if (rbd := _child(vol, "rbd")) is not None:
        _default(rbd, "pool", "rbd")
        _default(rbd, "user", "admin")
        _default(rbd, "keyring", "/etc/ceph/keyring")
    if (azure := _child(vol, "azureDisk")) is not None:
        _default_ptr(azure, "cachingMode", "ReadWrite")
        _default_ptr(azure, "kind", "Shared")
        _default_ptr(azure, "fsType", "ext4")
        _default_ptr(azure, "readOnly", False)
    if (scale_io := _child(vol, "scaleIO")) is not None:
        _default(scale_io, "storageMode", "ThinProvisioned")
        _default(scale_io, "fsType", "xfs")


def default_pod_spec(spec: JSON) -> None:
    """``SetDefaults_PodSpec`` and the nested defaults: pods and pod templates alike."""
    _default(spec, "dnsPolicy", "ClusterFirst")
    _default(spec, "restartPolicy", "Always")
    _default_ptr(spec, "securityContext", {})
    _default_ptr(spec, "terminationGracePeriodSeconds", DEFAULT_GRACE_SECONDS)
    _default(spec, "schedulerName", DEFAULT_SCHEDULER)
    # v1 <-> internal conversion: serviceAccountName wins, serviceAccount mirrors it.
    if _unset(spec, "serviceAccountName") and not _unset(spec, "serviceAccount"):
        spec["serviceAccountName"] = spec["serviceAccount"]
    if not _unset(spec, "serviceAccountName"):
        spec["serviceAccount"] = spec["serviceAccountName"]
    else:
        spec.pop("serviceAccount", None)
    for vol in _items(spec, "volumes"):
        _volume(vol)
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for ctr in _items(spec, key):
            _container(ctr)
    if (overhead := _child(spec, "overhead")) is not None:
        quantity.canonicalize_list(overhead)


def _pod_only(spec: JSON) -> None:
    """``SetDefaults_Pod``: what a Pod gets and a pod template does not."""
    for key in ("containers", "initContainers"):
        for ctr in _items(spec, key):
            resources = _child(ctr, "resources")
            limits = _child(resources, "limits")
            if resources is None or limits is None:
                continue
            requests = _ensure(resources, "requests")
            if requests is not None:
                for name, value in limits.items():
                    requests.setdefault(name, value)
    _default_ptr(spec, "enableServiceLinks", True)
    if spec.get("hostNetwork") is True:
        for key in ("containers", "initContainers"):
            for ctr in _items(spec, key):
                for port in _items(ctr, "ports"):
                    if _unset(port, "hostPort") and isinstance(port.get("containerPort"), int):
                        port["hostPort"] = port["containerPort"]


def default_pod(obj: JSON) -> None:
    spec = _ensure(obj, "spec")
    if spec is not None:
        _pod_only(spec)
        default_pod_spec(spec)


def _template(spec: JSON | None) -> None:
    """A workload's ``spec.template``: a PodTemplateSpec, encoded even when empty."""
    template = _ensure(spec, "template")
    if template is None:
        return
    meta = _ensure(template, "metadata")
    if meta is not None:
        meta.setdefault("creationTimestamp", None)
    pod_spec = _ensure(template, "spec")
    if pod_spec is not None:
        default_pod_spec(pod_spec)


# -- apps/v1 -----------------------------------------------------------------------------

def default_deployment(obj: JSON) -> None:
    spec = _ensure(obj, "spec")
    if spec is None:
        return
    _default_ptr(spec, "replicas", 1)
    strategy = _ensure(spec, "strategy")
    if strategy is not None:
        _default(strategy, "type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = _ensure(strategy, "rollingUpdate")
            if rolling is not None:
                _default_ptr(rolling, "maxUnavailable", "25%")
                _default_ptr(rolling, "maxSurge", "25%")
    _default_ptr(spec, "revisionHistoryLimit", 10)
    _default_ptr(spec, "progressDeadlineSeconds", 600)
    _template(spec)
    _ensure(obj, "status")


def default_replica_set(obj: JSON) -> None:
    spec = _ensure(obj, "spec")
    if spec is None:
        return
    _default_ptr(spec, "replicas", 1)
    _template(spec)
    status = _ensure(obj, "status")
    if status is not None:
        _default_ptr(status, "replicas", 0)


def default_daemon_set(obj: JSON) -> None:
    spec = _ensure(obj, "spec")
    if spec is None:
        return
    strategy = _ensure(spec, "updateStrategy")
    if strategy is not None:
        _default(strategy, "type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = _ensure(strategy, "rollingUpdate")
            if rolling is not None:
                _default_ptr(rolling, "maxUnavailable", 1)
                _default_ptr(rolling, "maxSurge", 0)
    _default_ptr(spec, "revisionHistoryLimit", 10)
    _template(spec)
    status = _ensure(obj, "status")
    if status is not None:
        for key in ("currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled",
                    "numberReady"):
            _default_ptr(status, key, 0)


# -- core/v1 others ----------------------------------------------------------------------

def default_service(obj: JSON) -> None:
    spec = _ensure(obj, "spec")
    if spec is None:
        return
    _default(spec, "sessionAffinity", "None")
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        client_ip = _child(_child(spec, "sessionAffinityConfig"), "clientIP")
        if client_ip is None or client_ip.get("timeoutSeconds") is None:
            spec["sessionAffinityConfig"] = {
                "clientIP": {"timeoutSeconds": CLIENT_IP_AFFINITY_SECONDS}}
    _default(spec, "type", "ClusterIP")
    stype = spec["type"]
    for port in _items(spec, "ports"):
        _default(port, "protocol", "TCP")
        if _unset(port, "targetPort") and port.get("port") is not None:
            port["targetPort"] = port["port"]
    externally_accessible = stype in ("LoadBalancer", "NodePort") or (
        stype == "ClusterIP" and bool(spec.get("externalIPs")))
    if externally_accessible:
        _default(spec, "externalTrafficPolicy", "Cluster")
    if stype in ("ClusterIP", "NodePort", "LoadBalancer"):
        _default_ptr(spec, "internalTrafficPolicy", "Cluster")
    if stype == "LoadBalancer":
        _default_ptr(spec, "allocateLoadBalancerNodePorts", True)
    _ip_families(spec)
    status = _ensure(obj, "status")
    load_balancer = _ensure(status, "loadBalancer")
    if stype == "LoadBalancer":
        for ingress in _items(load_balancer, "ingress"):
            if ingress.get("ip") and ingress.get("ipMode") is None:
                ingress["ipMode"] = "VIP"


def _ip_families(spec: JSON) -> None:
    """The service registry's IP family fields on a single-stack IPv4 cluster."""
    if spec.get("type") == "ExternalName":
        spec.pop("ipFamilies", None)
        spec.pop("ipFamilyPolicy", None)
        return
    headless_without_selector = spec.get("clusterIP") == "None" and not spec.get("selector")
    _default(spec, "ipFamilyPolicy",
             "RequireDualStack" if headless_without_selector else "SingleStack")
    if not spec.get("ipFamilies"):
        spec["ipFamilies"] = ["IPv4"]


def default_namespace(obj: JSON) -> None:
    meta = _ensure(obj, "metadata")
    name = meta.get("name") if meta is not None else None
    if meta is not None and isinstance(name, str) and name:
        labels = _ensure(meta, "labels")
        if labels is not None:
            labels[NAMESPACE_NAME_LABEL] = name
    _ensure(obj, "spec")
    status = _ensure(obj, "status")
    if status is not None:
        _default(status, "phase", "Active")


def default_secret(obj: JSON) -> None:
    _default(obj, "type", "Opaque")


def default_endpoints(obj: JSON) -> None:
    for subset in _items(obj, "subsets"):
        for port in _items(subset, "ports"):
            _default(port, "protocol", "TCP")


def default_node(obj: JSON) -> None:
    _ensure(obj, "spec")
    status = _child(obj, "status")
    if status is not None and status.get("allocatable") is None:
        capacity = status.get("capacity")
        if isinstance(capacity, dict):
            status["allocatable"] = dict(capacity)
    for key in ("capacity", "allocatable"):
        if (resources := _child(status, key)) is not None:
            quantity.canonicalize_list(resources)


def default_lease(obj: JSON) -> None:
    _ensure(obj, "spec")
