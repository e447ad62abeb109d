"""What the Endpoints and EndpointSlice controllers share: a queue of Service keys, fed
by Service events and by the events of the pods a Service selects (old and new labels)."""

from __future__ import annotations

from kubelite.aio.clock import REAL, Clock
from kubelite.api.meta import JSON
from kubelite.client.informer import Informer, object_key
from kubelite.controllers.base import Controller
from kubelite.controllers.service_endpoints import selects


class ServiceKeyed(Controller):
    """A controller whose keys are Services, woken by their pods too."""

    def __init__(self, services: Informer, pods: Informer, clock: Clock = REAL) -> None:
        super().__init__(clock=clock)
        self.services = services
        self.pods = pods

    def register(self) -> None:
        self.services.add_handlers(self._enqueue, lambda _o, n: self._enqueue(n),
                                   self._enqueue)
        self.pods.add_handlers(self._pod, self._pod_update, self._pod)

    def _enqueue(self, obj: JSON) -> None:
        self.queue.add(object_key(obj))

    def _pod(self, pod: JSON) -> None:
        namespace = (pod.get("metadata") or {}).get("namespace")
        for svc in self.services.list():
            if (svc.get("metadata") or {}).get("namespace") == namespace and selects(svc, pod):
                self._enqueue(svc)

    def _pod_update(self, old: JSON, new: JSON) -> None:
        self._pod(old)
        if (old.get("metadata") or {}).get("labels") != (new.get("metadata") or {}).get(
                "labels"):
            self._pod(new)
