"""The status manager: the one writer of ``pods/status`` for this node (rule 4).

Contract: :meth:`StatusManager.set` writes only when the status differs from the last
one written for that pod uid, with a JSON patch that first tests the uid (so a
re-created pod of the same name is never touched). A pod that is gone is forgotten.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from kubelite.api.errors import StatusError
from kubelite.client.errors import ClientError
from kubelite.client.resources import PODS
from kubelite.client.rest import ApiClient
from kubelite.kubelet.podspec import JSON

log = logging.getLogger(__name__)


class StatusManager:
    def __init__(self, client: ApiClient) -> None:
        self.client = client
        self._written: dict[str, JSON] = {}
        self.writes = 0
        self.on_written: Callable[[str, JSON], None] | None = None  # (uid, status): metrics

    def last(self, uid: str) -> JSON | None:
        return self._written.get(uid)

    async def set(self, namespace: str, name: str, uid: str, status: JSON) -> bool:
        """Write ``status`` to the pod (namespace, name, uid); True if a write happened."""
        if self._written.get(uid) == status:
            return False
        patch = [{"op": "test", "path": "/metadata/uid", "value": uid},
                 {"op": "add", "path": "/status", "value": status}]
        try:
            await self.client.patch(PODS, name, patch, namespace, patch_type="json",
                                    subresource="status")
        except StatusError as exc:
            if exc.code in (404, 409, 422):
                log.debug("status of %s/%s not written: %s", namespace, name, exc.message)
                self._written.pop(uid, None)
                return False
            raise
        except ClientError as exc:
            log.warning("status of %s/%s not written: %s", namespace, name, exc)
            return False
        self._written[uid] = status
        self.writes += 1
        if self.on_written is not None:
            self.on_written(uid, status)
        return True

    def forget(self, uid: str) -> None:
        self._written.pop(uid, None)
