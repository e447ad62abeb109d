"""An event recorder writing core/v1 Events as the kubelet and scheduler do.

Contract: :meth:`EventRecorder.event` never blocks and never raises; events are written
in order by one background task. An event identical to an earlier one (same involved
object and fieldPath, type, reason, message and source) is not created again: the
existing Event gets ``count + 1`` and a new ``lastTimestamp`` (client-go's correlator).
Event names are ``<object name>.<hex nanoseconds>``. Events about cluster-scoped objects
(Nodes) go to the ``default`` namespace.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque

from kubelite.aio import tasks as aiotasks
from kubelite.api.errors import StatusError
from kubelite.api.meta import JSON
from kubelite.api.meta_time import Clock, rfc3339, utcnow
from kubelite.client.errors import ClientError
from kubelite.client.resources import EVENTS
from kubelite.client.rest import ApiClient

log = logging.getLogger(__name__)
NORMAL = "Normal"
WARNING = "Warning"
_CACHE_SIZE = 4096


def object_reference(obj: JSON, field_path: str = "") -> JSON:
    """The ``involvedObject`` for ``obj`` (a JSON object with apiVersion/kind/metadata)."""
    meta = obj.get("metadata") or {}
    ref: JSON = {"kind": obj.get("kind", ""), "apiVersion": obj.get("apiVersion", "v1"),
                 "name": meta.get("name", "")}
    if meta.get("namespace"):
        ref["namespace"] = meta["namespace"]
    if meta.get("uid"):
        ref["uid"] = meta["uid"]
    if meta.get("resourceVersion"):
        ref["resourceVersion"] = meta["resourceVersion"]
    if field_path:
        ref["fieldPath"] = field_path
    return ref


class EventRecorder:
    """Events from one ``component`` (``kubelet``, ``default-scheduler``) on ``host``."""

    def __init__(self, client: ApiClient, component: str, host: str = "", *,
                 clock: Clock = utcnow) -> None:
        self.client = client
        self.component = component
        self.host = host
        self.clock = clock
        self._queue: asyncio.Queue[tuple[JSON, str, str, str] | None] = asyncio.Queue()
        self._seen: OrderedDict[tuple[str, ...], tuple[str, str, int]] = OrderedDict()
        self._task: asyncio.Task[None] | None = None
        # the latest (type, reason, message) recorded, for tests and debugging
        self.recorded: deque[tuple[str, str, str]] = deque(maxlen=1000)

    def event(self, obj: JSON, type_: str, reason: str, message: str,
              field_path: str = "") -> None:
        ref = object_reference(obj, field_path)
        self.recorded.append((type_, reason, message))
        self._queue.put_nowait((ref, type_, reason, message))
        if self._task is None:
            try:
                self._task = aiotasks.guarded(self._run(), "event-recorder")
            except RuntimeError:
                pass

    async def flush(self) -> None:
        """Wait until every event recorded so far is written (or given up)."""
        if self._task is not None:
            await self._queue.join()

    async def close(self) -> None:
        await aiotasks.stop([self._task])
        self._task = None

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                if item is not None:
                    await self._write(*item)
            except (StatusError, ClientError) as exc:
                log.debug("event not written: %s", exc)
            except Exception:
                log.exception("event not written")
            finally:
                self._queue.task_done()

    async def _write(self, ref: JSON, type_: str, reason: str, message: str) -> None:
        namespace = ref.get("namespace") or "default"
        key = (ref.get("kind", ""), namespace, ref.get("name", ""), ref.get("uid", ""),
               ref.get("fieldPath", ""), type_, reason, message)
        now = self.clock()
        seen = self._seen.get(key)
        if seen is not None:
            name, ns, count = seen
            try:
                await self.client.patch(EVENTS, name, {"count": count + 1,
                                                        "lastTimestamp": rfc3339(now)}, ns)
                self._seen[key] = (name, ns, count + 1)
                self._seen.move_to_end(key)
                return
            except StatusError as exc:
                if exc.code != 404:
                    raise
        name = f"{ref.get('name', '')}.{time.time_ns():x}"
        source: JSON = {"component": self.component}
        if self.host:
            source["host"] = self.host
        ev: JSON = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": ref, "reason": reason, "message": message, "source": source,
            "firstTimestamp": rfc3339(now), "lastTimestamp": rfc3339(now), "count": 1,
            "type": type_, "eventTime": None, "reportingComponent": self.component,
            "reportingInstance": self.host,
        }
        await self.client.create(EVENTS, ev, namespace)
        self._seen[key] = (name, namespace, 1)
        if len(self._seen) > _CACHE_SIZE:
            self._seen.popitem(last=False)
