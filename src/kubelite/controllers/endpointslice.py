"""The EndpointSlice controller: each Service with a selector has IPv4 EndpointSlices
(``<service>-<random>``, labelled ``kubernetes.io/service-name``, controlled by the
Service) holding the pods it selects, with ready/serving/terminating conditions (kube's
``endpointslice`` controller).

Contract: :meth:`EndpointSliceController.sync` is level-based: it computes the slices
with :func:`~kubelite.controllers.service_endpoints.desired_slices`, matches them to the
existing ones with :func:`~kubelite.controllers.service_endpoints.plan_slices` and writes
only what differs; the slices of a deleted Service are deleted.
"""

from __future__ import annotations

import logging

from kubelite.aio.clock import REAL, Clock
from kubelite.api.errors import StatusError
from kubelite.api.meta import JSON, controller_ref
from kubelite.client.informer import Informer
from kubelite.client.rest import ApiClient
from kubelite.controllers.base import rv_int
from kubelite.controllers.resources import ENDPOINTSLICES
from kubelite.controllers.service_endpoints import (
    MANAGED_BY,
    MANAGED_BY_LABEL,
    SERVICE_NAME_LABEL,
    SliceContent,
    desired_slices,
    plan_slices,
    slice_labels,
)
from kubelite.controllers.servicequeue import ServiceKeyed

log = logging.getLogger(__name__)
ZONE_LABEL = "topology.kubernetes.io/zone"


class EndpointSliceController(ServiceKeyed):
    """Keeps ``discovery.k8s.io/v1`` EndpointSlices true to the pods each Service selects."""

    name = "endpointslice-controller"

    def __init__(self, client: ApiClient, services: Informer, pods: Informer,
                 slices: Informer, nodes: Informer, clock: Clock = REAL) -> None:
        super().__init__(services, pods, clock)
        self.client = client
        self.slices = slices
        self.nodes = nodes

    def register(self) -> None:
        super().register()
        self.slices.add_handlers(self._slice, lambda _o, n: self._slice(n), self._slice)

    def _slice(self, es: JSON) -> None:
        meta = es.get("metadata") or {}
        labels = meta.get("labels") or {}
        if labels.get(MANAGED_BY_LABEL) == MANAGED_BY and labels.get(SERVICE_NAME_LABEL):
            self.queue.add(f"{meta.get('namespace')}/{labels[SERVICE_NAME_LABEL]}")

    def _owned(self, namespace: str, name: str) -> list[JSON]:
        out = []
        for es in self.slices.list():
            meta = es.get("metadata") or {}
            labels = meta.get("labels") or {}
            if (meta.get("namespace") == namespace and labels.get(SERVICE_NAME_LABEL) == name
                    and labels.get(MANAGED_BY_LABEL) == MANAGED_BY):
                out.append(es)
        return out

    async def sync(self, key: str) -> None:
        namespace, _, name = key.partition("/")
        svc = self.services.get(key)
        existing = self._owned(namespace, name)
        if svc is None or not (svc.get("spec") or {}).get("selector"):
            if svc is None:
                for es in existing:
                    await self._delete(es["metadata"]["name"], namespace)
            return
        zones = {n["metadata"]["name"]: (n["metadata"].get("labels") or {}).get(ZONE_LABEL, "")
                 for n in self.nodes.list()}
        labels = slice_labels(svc)
        plan = plan_slices(desired_slices(svc, self.selected_pods(svc), zones), existing, labels)
        last = 0
        by_name = {es["metadata"]["name"]: es for es in existing}
        for slice_name, content in plan.update.items():
            body = self._body(svc, content, labels)
            body["metadata"] = {**by_name[slice_name]["metadata"], "labels": labels}
            last = max(last, rv_int(await self.client.update(ENDPOINTSLICES, body, namespace)))
        for content in plan.create:
            body = self._body(svc, content, labels)
            last = max(last, rv_int(await self.client.create(ENDPOINTSLICES, body, namespace)))
        for slice_name in plan.delete:
            await self._delete(slice_name, namespace)
        if last:
            await self.caught_up(self.slices, last)

    @staticmethod
    def _body(svc: JSON, content: SliceContent, labels: dict[str, str]) -> JSON:
        owner = controller_ref({**svc, "apiVersion": "v1", "kind": "Service"})
        body: JSON = {
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"generateName": f"{svc['metadata']['name']}-",
                         "namespace": svc["metadata"]["namespace"], "labels": labels,
                         "ownerReferences": [owner]},
            "addressType": "IPv4", "endpoints": content.endpoints,
        }
        if content.ports is not None:
            body["ports"] = content.ports
        return body

    async def _delete(self, name: str, namespace: str) -> None:
        try:
            await self.client.delete(ENDPOINTSLICES, name, namespace)
        except StatusError as exc:
            if exc.code != 404:
                raise
