"""Deleting an owner's pods, as upstream's PodControl: in parallel, events on the owner."""

from __future__ import annotations

import asyncio

from kubelite.api.errors import StatusError
from kubelite.api.meta import JSON
from kubelite.client.events import NORMAL, WARNING, EventRecorder
from kubelite.client.rest import ApiClient
from kubelite.controllers.base import rv_int
from kubelite.controllers.pods import meta, uid
from kubelite.controllers.resources import PODS


async def delete_pods(client: ApiClient, recorder: EventRecorder, owner: JSON,
                      pods: list[JSON]) -> int:
    """Delete ``pods`` (uid-preconditioned), recording SuccessfulDelete/FailedDelete on
    ``owner``; a pod already gone is fine. Returns the highest resourceVersion written."""

    async def one(pod: JSON) -> int:
        name = meta(pod)["name"]
        try:
            out = await client.delete(PODS, name, meta(pod).get("namespace"), uid=uid(pod))
        except StatusError as exc:
            if exc.code == 404:
                return 0
            recorder.event(owner, WARNING, "FailedDelete", f"Error deleting: {exc.message}")
            raise
        recorder.event(owner, NORMAL, "SuccessfulDelete", f"Deleted pod: {name}")
        return rv_int(out)

    return max(await asyncio.gather(*(one(p) for p in pods)), default=0)
