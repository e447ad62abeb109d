"""The pod manager: the pods this node should run, by uid, from both sources, and the
static <-> mirror pod mapping (upstream's pkg/kubelet/pod).

Contract:
- desired pods come from the API (the informer of pods bound to this node) and from the
  static manifest folder (:meth:`PodManager.set_static`); a static pod wins its uid;
- mirror pods (``kubernetes.io/config.mirror``) only mirror static pods: they are never
  desired themselves, and :meth:`PodManager.worker_key` sends their events to the static
  pod's worker, or, when no static pod claims them, to ``mirror:<namespace>/<name>``;
- a mirror pod this kubelet has just created is known at once (:meth:`mirror_created`)
  and held beside the informer's cache, never written into it, until the informer has
  caught up with the resourceVersion it was created at;
- :attr:`PodManager.synced` is true once both sources have been read once: only then may
  anything be removed for not being desired.
"""

from __future__ import annotations

from kubelite.client.informer import Informer
from kubelite.kubelet import labels as L
from kubelite.kubelet.podspec import JSON, is_mirror, meta

MIRROR_KEY = "mirror:"


def _key(pod: JSON) -> str:
    m = meta(pod)
    return f"{m.get('namespace')}/{m.get('name')}"


def _rv(value: object) -> int:
    try:
        return int(str(value or 0))
    except ValueError:
        return 0


def static_uid_of(mirror: JSON) -> str:
    """The uid of the static pod a mirror pod mirrors."""
    return str((meta(mirror).get("annotations") or {}).get(L.CONFIG_MIRROR, ""))


class PodManager:
    """Desired pods by uid (see the module contract)."""

    def __init__(self, informer: Informer) -> None:
        self.informer = informer
        self.static: dict[str, JSON] = {}
        self.static_synced = False
        self._created: dict[str, JSON] = {}  # namespace/name -> mirror pod we created

    @property
    def synced(self) -> bool:
        return self.informer.synced and self.static_synced

    def set_static(self, pods: dict[str, JSON]) -> set[str]:
        """Replace the static pods; the uids that appeared or disappeared."""
        old, self.static = self.static, pods
        self.static_synced = True
        return set(old) ^ set(pods)

    def desired(self, uid: str) -> tuple[JSON | None, str]:
        """The pod for ``uid`` and its source: "api", "file" or ""."""
        if uid in self.static:
            return self.static[uid], "file"
        for pod in self.informer.list():
            if meta(pod).get("uid") == uid and not is_mirror(pod):
                return pod, "api"
        return None, ""

    def wanted(self) -> set[str]:
        """Every desired uid."""
        api = {str(meta(p).get("uid")) for p in self.informer.list() if not is_mirror(p)}
        return set(self.static) | api

    def worker_key(self, pod: JSON) -> str:
        """The pod worker an API event for ``pod`` wakes."""
        if not is_mirror(pod):
            return str(meta(pod).get("uid"))
        static_uid = static_uid_of(pod)
        return static_uid if static_uid in self.static else MIRROR_KEY + _key(pod)

    # -- mirror pods ---------------------------------------------------------------------

    def get(self, key: str) -> JSON | None:
        """The API pod ``namespace/name`` (a mirror pod just created included)."""
        made = self._created.get(key)
        if made is not None:
            if _rv(self.informer.resource_version) < _rv(meta(made).get("resourceVersion")):
                return made
            del self._created[key]  # the informer has seen it (or its deletion) by now
        return self.informer.get(key)

    def mirror_of(self, static: JSON) -> JSON | None:
        """The mirror pod that holds ``static``'s name, if any."""
        found = self.get(_key(static))
        return found if found is not None and is_mirror(found) else None

    def mirror_created(self, mirror: JSON) -> None:
        self._created[_key(mirror)] = mirror

    def mirrors_of(self, static_uid: str) -> list[str]:
        """The ``namespace/name`` of every mirror pod that mirrors ``static_uid``."""
        return [_key(p) for p in self.informer.list()
                if is_mirror(p) and static_uid_of(p) == static_uid]

    def spec_pod(self, namespace: str, name: str) -> tuple[str, JSON | None]:
        """The uid and the pod that defines the containers of API pod ``namespace/name``
        (for a mirror pod: its static pod)."""
        pod = self.get(f"{namespace}/{name}")
        if pod is None:
            return "", None
        if is_mirror(pod):
            uid = static_uid_of(pod)
            return uid, self.static.get(uid)
        return str(meta(pod).get("uid")), pod
