"""The ``default/kubernetes`` Service, its Endpoints and EndpointSlice, kept true.

As kube-apiserver's ``controlplane/controller/kubernetesservice``: at start and then every
``interval`` seconds the Service (first address of the Service range, port 443 named
``https`` to the API server's port) and its endpoints (the API server's advertised address)
are created when missing and rewritten when they differ from what they should be. What a
user added besides (labels, annotations) is kept; the spec and the addresses are not.
"""

from __future__ import annotations

import asyncio
import logging

from kubelite.aio import tasks
from kubelite.api import errors, scheme
from kubelite.api.meta import JSON
from kubelite.apiserver.registry import Registry

log = logging.getLogger(__name__)

NAME = "kubernetes"
NAMESPACE = "default"
SERVICE_LABELS = {"component": "apiserver", "provider": "kubernetes"}
SLICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"


def _res(group: str, version: str, plural: str) -> scheme.Resource:
    res = scheme.lookup(group, version, plural)
    assert res is not None
    return res


def desired_service(cluster_ip: str, port: int) -> JSON:
    """The Service kube-apiserver keeps (what a create sends; the server defaults it)."""
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": dict(SERVICE_LABELS)},
        "spec": {
            "type": "ClusterIP", "clusterIP": cluster_ip, "clusterIPs": [cluster_ip],
            "sessionAffinity": "None", "ipFamilyPolicy": "SingleStack",
            "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}],
        },
    }


def desired_endpoints(address: str, port: int) -> JSON:
    return {
        "apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": NAME, "namespace": NAMESPACE,
                     "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
        "subsets": [{"addresses": [{"ip": address}],
                     "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}],
    }


def desired_slice(address: str, port: int) -> JSON:
    return {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": NAME, "namespace": NAMESPACE,
                     "labels": {SLICE_NAME_LABEL: NAME}},
        "addressType": "IPv6" if ":" in address else "IPv4",
        "endpoints": [{"addresses": [address], "conditions": {"ready": True}}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
    }


class KubernetesService:
    """Keeps ``default/kubernetes`` and its endpoints pointing at this API server."""

    def __init__(self, registry: Registry, address: str, interval: float = 10.0) -> None:
        self.registry = registry
        self.address = address
        self.interval = interval
        self.port = 0
        self._task: asyncio.Task[None] | None = None

    async def ensure(self, port: int) -> None:
        """Create or correct the three objects once (the API server listens on ``port``)."""
        self.port = port
        cluster_ip = self.registry.allocators.ips.first()
        svc = _res("", "v1", "services")
        await self._ensure(svc, desired_service(cluster_ip, port), ("spec",))
        await self._ensure(_res("", "v1", "endpoints"), desired_endpoints(self.address, port),
                           ("subsets",))
        await self._ensure(_res("discovery.k8s.io", "v1", "endpointslices"),
                           desired_slice(self.address, port),
                           ("addressType", "endpoints", "ports"))

    async def _ensure(self, res: scheme.Resource, want: JSON, fields: tuple[str, ...]) -> None:
        current = await self.registry.store.get(res.key(NAMESPACE, NAME))
        if current is None:
            try:
                await self.registry.create(res, NAMESPACE, want,
                                           field_manager="kube-apiserver")
            except errors.StatusError as exc:
                if exc.code != 409:
                    raise
            return
        if not _differs(current, want, fields):
            return

        def correct(obj: JSON) -> JSON:
            labels = obj["metadata"].setdefault("labels", {})
            labels.update(want["metadata"].get("labels") or {})
            for f in fields:
                if f == "spec":
                    obj["spec"] = {**(obj.get("spec") or {}), **want["spec"]}
                else:
                    obj[f] = want[f]
            return obj

        await self.registry.guaranteed_update(res, NAMESPACE, NAME, correct,
                                              field_manager="kube-apiserver")

    def start(self) -> None:
        async def loop() -> None:
            while True:
                await asyncio.sleep(self.interval)
                await self.ensure(self.port)
        self._task = tasks.guarded(loop, "kubernetes-service", restart=tasks.Restart())

    async def stop(self) -> None:
        if self._task is not None:
            await tasks.stop([self._task])
            self._task = None


def _differs(current: JSON, want: JSON, fields: tuple[str, ...]) -> bool:
    labels = current["metadata"].get("labels") or {}
    if any(labels.get(k) != v for k, v in (want["metadata"].get("labels") or {}).items()):
        return True
    for f in fields:
        if f == "spec":
            spec = current.get("spec") or {}
            if any(spec.get(k) != v for k, v in want["spec"].items() if k != "ports"):
                return True
            ports = [{k: p.get(k) for k in ("name", "port", "protocol", "targetPort")}
                     for p in spec.get("ports") or []]
            if ports != want["spec"]["ports"]:
                return True
        elif current.get(f) != want[f]:
            return True
    return False
