"""What the Endpoints and EndpointSlice controllers share: a queue of Service keys, fed
by Service events and by the events of the pods a Service selects (old and new labels),
and indexes: Services by namespace, pods by namespace and label (a sync reads the pods
that carry its selector's rarest label, not the cluster's)."""

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
        self._pods_by_label: dict[tuple[str, str, str], set[str]] = {}
        self._services_by_ns: dict[str, set[str]] = {}

    def register(self) -> None:
        self.services.add_handlers(self._service_added, lambda _o, n: self._enqueue(n),
                                   self._service_deleted)
        self.pods.add_handlers(self._pod_added, self._pod_update, self._pod_deleted)

    def selected_pods(self, svc: JSON) -> list[JSON]:
        """The cached pods the Service's selector selects."""
        selector = (svc.get("spec") or {}).get("selector")
        if not selector or not isinstance(selector, dict):
            return []
        ns = _namespace(svc)
        candidates = min((self._pods_by_label.get((ns, str(k), str(v)), set())
                          for k, v in selector.items()), key=len)
        out = []
        for key in candidates:
            pod = self.pods.get(key)
            if pod is not None and selects(svc, pod):
                out.append(pod)
        return out

    def _index(self, pod: JSON, add: bool) -> None:
        ns, key = _namespace(pod), object_key(pod)
        for k, v in ((pod.get("metadata") or {}).get("labels") or {}).items():
            if add:
                self._pods_by_label.setdefault((ns, k, v), set()).add(key)
            else:
                keys = self._pods_by_label.get((ns, k, v))
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del self._pods_by_label[(ns, k, v)]

    def _enqueue(self, obj: JSON) -> None:
        self.queue.add(object_key(obj))

    def _service_added(self, svc: JSON) -> None:
        self._services_by_ns.setdefault(_namespace(svc), set()).add(object_key(svc))
        self._enqueue(svc)

    def _service_deleted(self, svc: JSON) -> None:
        self._services_by_ns.get(_namespace(svc), set()).discard(object_key(svc))
        self._enqueue(svc)

    def _pod(self, pod: JSON) -> None:
        for key in self._services_by_ns.get(_namespace(pod), ()):
            svc = self.services.get(key)
            if svc is not None and selects(svc, pod):
                self.queue.add(key)

    def _pod_added(self, pod: JSON) -> None:
        self._index(pod, True)
        self._pod(pod)

    def _pod_deleted(self, pod: JSON) -> None:
        self._index(pod, False)
        self._pod(pod)

    def _pod_update(self, old: JSON, new: JSON) -> None:
        self._pod(old)
        if (old.get("metadata") or {}).get("labels") != (new.get("metadata") or {}).get(
                "labels"):
            self._index(old, False)
            self._index(new, True)
            self._pod(new)


def _namespace(obj: JSON) -> str:
    return str((obj.get("metadata") or {}).get("namespace") or "")
