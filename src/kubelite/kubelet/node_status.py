"""The Node object: registration, status from the host, the Lease heartbeat.

Contract: :meth:`NodeAgent.register` creates the Node or brings an existing one up to
date (labels, addresses, capacity) and returns it; :meth:`NodeAgent.run` renews the
Lease in ``kube-node-lease`` every ``lease_interval`` seconds and writes the Node status
when it changed (heartbeat times are refreshed at least every ``report_interval``).
"""

from __future__ import annotations

import logging
import os
import platform
import shutil
import socket
from collections.abc import Callable
from datetime import timedelta

from kubelite.aio.clock import REAL, Clock
from kubelite.api.errors import StatusError
from kubelite.api.meta import JSON
from kubelite.api.meta_time import rfc3339, rfc3339_micro
from kubelite.client.errors import ClientError
from kubelite.client.events import EventRecorder
from kubelite.client.resources import LEASES, NODES
from kubelite.client.rest import ApiClient

log = logging.getLogger(__name__)
KUBELET_VERSION = "v1.32.4+kubelite"


def host_ip() -> str:
    """The address of the interface holding the default route (127.0.0.1 if none)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("10.255.255.255", 1))
        return str(s.getsockname()[0])
    except OSError:
        return "127.0.0.1"
    finally:
        s.close()


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def host_capacity(root: str) -> dict[str, str]:
    mem_kib = 0
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    try:
        disk = shutil.disk_usage(root).total // 1024
    except OSError:
        disk = 0
    return {"cpu": str(os.cpu_count() or 1), "ephemeral-storage": f"{disk}Ki",
            "hugepages-1Gi": "0", "hugepages-2Mi": "0", "memory": f"{mem_kib}Ki",
            "pods": "110"}


def _os_image() -> str:
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip('"')
    return "Linux"


def node_info(runtime_version: str) -> JSON:
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    return {
        "machineID": _read("/etc/machine-id"),
        "systemUUID": _read("/sys/class/dmi/id/product_uuid") or _read("/etc/machine-id"),
        "bootID": _read("/proc/sys/kernel/random/boot_id"),
        "kernelVersion": platform.release(),
        "osImage": _os_image(),
        "containerRuntimeVersion": runtime_version,
        "kubeletVersion": KUBELET_VERSION,
        "kubeProxyVersion": "",
        "operatingSystem": "linux",
        "architecture": arch,
    }


_CONDITIONS = (
    ("MemoryPressure", "False", "KubeletHasSufficientMemory",
     "kubelet has sufficient memory available"),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
)


class NodeAgent:
    def __init__(self, client: ApiClient, node_name: str, *, root: str, ip: str,
                 kubelet_port: int = 10250, pod_cidr: str = "", max_pods: int = 110,
                 runtime_version: str = "runc://unknown", labels: dict[str, str] | None = None,
                 lease_interval: float = 10.0, report_interval: float = 60.0,
                 lease_duration: int = 40, clock: Clock = REAL,
                 images: Callable[[], list[JSON]] | None = None) -> None:
        self.client = client
        self.node_name = node_name
        self.root = root
        self.ip = ip
        self.kubelet_port = kubelet_port
        self.pod_cidr = pod_cidr
        self.max_pods = max_pods
        self.runtime_version = runtime_version
        self.extra_labels = labels or {}
        self.lease_interval = lease_interval
        self.report_interval = report_interval
        self.lease_duration = lease_duration
        self.clock = clock
        self.node_uid = ""
        self.created = False
        self._last_status: JSON | None = None
        self._last_report = self.clock() - timedelta(days=1)
        self._started = rfc3339(self.clock())

    def labels(self) -> dict[str, str]:
        arch = node_info("")["architecture"]
        return {"beta.kubernetes.io/arch": arch, "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": arch, "kubernetes.io/hostname": self.node_name,
                "kubernetes.io/os": "linux", **self.extra_labels}

    def status(self, old: JSON | None) -> JSON:
        cap = host_capacity(self.root)
        cap["pods"] = str(self.max_pods)
        now = rfc3339(self.clock())
        old_conds = {c["type"]: c for c in (old or {}).get("conditions") or []}
        conds = []
        for type_, status, reason, message in _CONDITIONS:
            prev = old_conds.get(type_)
            since = (prev.get("lastTransitionTime") if prev and prev.get("status") == status
                     else self._started)
            conds.append({"type": type_, "status": status, "lastHeartbeatTime": now,
                          "lastTransitionTime": since, "reason": reason, "message": message})
        return {
            "capacity": cap, "allocatable": dict(cap), "conditions": conds,
            "addresses": [{"type": "InternalIP", "address": self.ip},
                          {"type": "Hostname", "address": self.node_name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": self.kubelet_port}},
            "nodeInfo": node_info(self.runtime_version),
        }

    async def register(self) -> JSON:
        body: JSON = {"apiVersion": "v1", "kind": "Node",
                      "metadata": {"name": self.node_name, "labels": self.labels(),
                                   "annotations": {
                                       "node.alpha.kubernetes.io/ttl": "0",
                                       "volumes.kubernetes.io/controller-managed-attach-detach":
                                           "true"}},
                      "spec": {}}
        if self.pod_cidr:
            body["spec"] = {"podCIDR": self.pod_cidr, "podCIDRs": [self.pod_cidr]}
        self.created = False
        try:
            node = await self.client.create(NODES, body)
            self.created = True
        except StatusError as exc:
            if exc.code != 409:
                raise
            node = await self.client.patch(NODES, self.node_name,
                                           {"metadata": {"labels": self.labels()},
                                            "spec": body["spec"]})
        self.node_uid = str(node["metadata"]["uid"])
        await self.update_status(force=True)
        return node

    async def update_status(self, force: bool = False) -> None:
        status = self.status(self._last_status)
        comparable = {**status, "conditions": [
            {k: v for k, v in c.items() if k != "lastHeartbeatTime"}
            for c in status["conditions"]]}
        last_cmp = None
        if self._last_status is not None:
            last_cmp = {**self._last_status, "conditions": [
                {k: v for k, v in c.items() if k != "lastHeartbeatTime"}
                for c in self._last_status["conditions"]]}
        due = (self.clock() - self._last_report).total_seconds() >= self.report_interval
        if not force and comparable == last_cmp and not due:
            return
        await self.client.patch(NODES, self.node_name, {"status": status},
                                 subresource="status")
        self._last_status = status
        self._last_report = self.clock()

    async def renew_lease(self) -> None:
        now = rfc3339_micro(self.clock())
        body: JSON = {
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": self.node_name, "namespace": "kube-node-lease"},
            "spec": {"holderIdentity": self.node_name,
                     "leaseDurationSeconds": self.lease_duration, "renewTime": now},
        }
        if self.node_uid:
            body["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "Node",
                                                    "name": self.node_name,
                                                    "uid": self.node_uid}]
        try:
            await self.client.patch(LEASES, self.node_name, {"spec": {"renewTime": now}},
                                    "kube-node-lease")
        except StatusError as exc:
            if exc.code != 404:
                raise
            await self.client.create(LEASES, body, "kube-node-lease")

    async def run(self) -> None:
        while True:
            try:
                await self.renew_lease()
                await self.update_status()
            except (StatusError, ClientError) as exc:
                log.warning("node heartbeat failed: %s", exc)
            await self.clock.sleep(self.lease_interval)


def record_start_events(recorder: EventRecorder, node_name: str, created: bool) -> None:
    """What ``kubectl describe node`` lists after a kubelet starts (the kubelet refers to
    its Node with the node name as uid); a Node it created also reports its conditions."""
    ref = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": node_name, "uid": node_name}}
    recorder.event(ref, "Normal", "Starting", "Starting kubelet.")
    recorder.event(ref, "Normal", "NodeAllocatableEnforced",
                   "Updated Node Allocatable limit across pods")
    if created:
        for reason in ("NodeHasSufficientMemory", "NodeHasNoDiskPressure",
                       "NodeHasSufficientPID", "NodeReady"):
            recorder.event(ref, "Normal", reason, f"Node {node_name} status is now: {reason}")
