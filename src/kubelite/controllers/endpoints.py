"""The Endpoints controller: each Service with a selector has an Endpoints object of its
name listing the addresses of the pods it selects (kube's ``endpoints_controller``).

Contract: :meth:`EndpointsController.sync` is level-based: it computes the subsets with
:func:`~kubelite.controllers.service_endpoints.desired_subsets` and writes only when they
or the copied labels differ; a deleted Service's Endpoints are deleted; a Service without
a selector is left alone (its Endpoints belong to whoever wrote them).
"""

from __future__ import annotations

import logging

from kubelite.aio.clock import REAL, Clock
from kubelite.api.errors import StatusError
from kubelite.api.meta import JSON
from kubelite.client.informer import Informer
from kubelite.client.rest import ApiClient
from kubelite.controllers.base import rv_int
from kubelite.controllers.resources import ENDPOINTS
from kubelite.controllers.service_endpoints import desired_subsets, endpoints_labels
from kubelite.controllers.servicequeue import ServiceKeyed

log = logging.getLogger(__name__)


class EndpointsController(ServiceKeyed):
    """Keeps ``core/v1`` Endpoints true to the pods each Service selects."""

    name = "endpoints-controller"

    def __init__(self, client: ApiClient, services: Informer, pods: Informer,
                 endpoints: Informer, clock: Clock = REAL) -> None:
        super().__init__(services, pods, clock)
        self.client = client
        self.endpoints = endpoints

    def register(self) -> None:
        super().register()
        self.endpoints.add_handlers(on_delete=self._enqueue)

    async def sync(self, key: str) -> None:
        namespace, _, name = key.partition("/")
        svc = self.services.get(key)
        current = self.endpoints.get(key)
        if svc is None:
            if current is not None:
                try:
                    await self.client.delete(ENDPOINTS, name, namespace)
                except StatusError as exc:
                    if exc.code != 404:
                        raise
            return
        if not (svc.get("spec") or {}).get("selector"):
            return
        subsets = desired_subsets(svc, self.selected_pods(svc))
        labels = endpoints_labels(svc)
        if current is not None and (current.get("subsets") or []) == subsets and (
                (current.get("metadata") or {}).get("labels") or {}) == labels:
            return
        body: JSON = {"apiVersion": "v1", "kind": "Endpoints",
                      "metadata": {"name": name, "namespace": namespace, "labels": labels},
                      "subsets": subsets}
        if current is None:
            written = await self.client.create(ENDPOINTS, body, namespace)
        else:
            meta = dict(current["metadata"])
            meta["labels"] = labels
            body["metadata"] = meta
            written = await self.client.update(ENDPOINTS, body, namespace)
        await self.caught_up(self.endpoints, rv_int(written))
