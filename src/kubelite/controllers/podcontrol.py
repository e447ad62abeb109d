"""Creating and deleting an owner's pods, as upstream's PodControl: in slow-start batches
(1, 2, 4, ... as ``slowStartBatch``) that stop at the first failure, so a controller that
is refused (quota, admission, an overloaded server) learns it from one request rather than
hundreds; events on the owner."""

from __future__ import annotations

import asyncio

from kubelite.api.errors import StatusError
from kubelite.api.meta import JSON
from kubelite.client.events import NORMAL, WARNING, EventRecorder
from kubelite.client.rest import ApiClient
from kubelite.controllers.base import rv_int
from kubelite.controllers.pods import meta, uid
from kubelite.controllers.resources import PODS

SLOW_START_INITIAL_BATCH = 1


def slow_start_batches(count: int, initial: int = SLOW_START_INITIAL_BATCH) -> list[int]:
    """Batch sizes 1, 2, 4, ... adding up to ``count`` (``slowStartBatch``)."""
    out: list[int] = []
    size = min(count, initial)
    remaining = count
    while remaining > 0:
        out.append(size)
        remaining -= size
        size = min(2 * size, remaining)
    return out


async def create_pods(client: ApiClient, recorder: EventRecorder, owner: JSON,
                      bodies: list[JSON]) -> tuple[int, StatusError | None, int]:
    """Create ``bodies`` in slow-start batches, recording SuccessfulCreate/FailedCreate on
    ``owner``; the first batch with a failure is the last. Returns how many were created,
    the API refusal that stopped them (other errors are raised) and the highest
    resourceVersion written."""
    ns = meta(owner).get("namespace")
    created = 0
    last_rv = 0
    pending = list(bodies)
    for size in slow_start_batches(len(pending)):
        batch, pending = pending[:size], pending[size:]
        results = await asyncio.gather(*(client.create(PODS, b, ns) for b in batch),
                                       return_exceptions=True)
        failed: BaseException | None = None
        for r in results:
            if isinstance(r, BaseException):
                failed = failed or r
                if isinstance(r, StatusError):
                    recorder.event(owner, WARNING, "FailedCreate", f"Error creating: {r.message}")
                continue
            created += 1
            last_rv = max(last_rv, rv_int(r))
            recorder.event(owner, NORMAL, "SuccessfulCreate",
                           f"Created pod: {meta(r).get('name')}")
        if isinstance(failed, StatusError):
            return created, failed, last_rv
        if failed is not None:
            raise failed
    return created, None, last_rv


async def delete_pods(client: ApiClient, recorder: EventRecorder, owner: JSON,
                      pods: list[JSON]) -> int:
    """Delete ``pods`` (uid-preconditioned) in slow-start batches, recording
    SuccessfulDelete/FailedDelete on ``owner``; a pod already gone is fine. The first
    failure ends the deletions after its batch and is raised. Returns the highest
    resourceVersion written."""

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

    last_rv = 0
    pending = list(pods)
    for size in slow_start_batches(len(pending)):
        batch, pending = pending[:size], pending[size:]
        results = await asyncio.gather(*(one(p) for p in batch), return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException):
                raise r
            last_rv = max(last_rv, r)
    return last_rv
