"""The mirror client: creates and deletes the API's mirror pods of static pods
(upstream's pkg/kubelet/pod/mirror_client.go).

Contract:
- :meth:`MirrorClient.ensure` leaves exactly one live mirror pod for a static pod, with
  the static pod's uid in ``kubernetes.io/config.mirror``: an outdated or terminating
  one is deleted (grace 0, uid precondition) and a new one created; a regular pod that
  holds the name is left alone; it answers False when the create must be tried again;
- :meth:`MirrorClient.delete_orphan` deletes a mirror pod whose static pod is gone, and
  only once the static source has been read;
- deleting a pod that is already gone (404) or re-created (409) is no error.
"""

from __future__ import annotations

from collections.abc import Callable

from kubelite.api.errors import StatusError
from kubelite.client.resources import PODS
from kubelite.client.rest import ApiClient
from kubelite.kubelet import static_pods
from kubelite.kubelet.pod_manager import PodManager, static_uid_of
from kubelite.kubelet.podspec import JSON, is_mirror, meta


class MirrorClient:
    """Mirror pods in the API (see the module contract)."""

    def __init__(self, client: ApiClient, pods: PodManager, node_uid: Callable[[], str],
                 forget_status: Callable[[str], None]) -> None:
        self.client = client
        self.pods = pods
        self.node_uid = node_uid
        self.forget_status = forget_status

    async def ensure(self, static: JSON) -> bool:
        m = meta(static)
        mirror = self.pods.mirror_of(static)
        if mirror is not None:
            mm = meta(mirror)
            if static_uid_of(mirror) == m.get("uid") and not mm.get("deletionTimestamp"):
                return True
            await self.delete(mirror)
            self.forget_status(str(mm.get("uid")))
        elif self.pods.get(f"{m.get('namespace')}/{m.get('name')}") is not None:
            return True  # a regular pod holds the name
        try:
            created = await self.client.create(
                PODS, static_pods.mirror_pod(static, self.node_uid()))
        except StatusError as exc:
            if exc.code == 409:
                return False
            raise
        self.pods.mirror_created(created)
        return True

    async def delete_orphan(self, key: str) -> None:
        mirror = self.pods.get(key)
        if mirror is None or not is_mirror(mirror) or not self.pods.static_synced:
            return
        if static_uid_of(mirror) in self.pods.static:
            return
        await self.delete(mirror)

    async def delete(self, pod: JSON) -> None:
        await delete_now(self.client, pod)


async def delete_now(client: ApiClient, pod: JSON) -> None:
    """Delete ``pod`` at once (grace 0, uid precondition); gone or re-created is fine."""
    m = meta(pod)
    try:
        await client.delete(PODS, str(m.get("name")), str(m.get("namespace")),
                            grace_period_seconds=0, uid=str(m.get("uid")))
    except StatusError as exc:
        if exc.code not in (404, 409):
            raise
