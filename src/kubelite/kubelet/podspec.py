"""Reading a pod's JSON with the defaults the API server would have applied."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import orjson

from kubelite.api.meta import JSON as JSON


def spec(pod: JSON) -> JSON:
    s: JSON = pod.get("spec") or {}
    return s


def meta(pod: JSON) -> JSON:
    m: JSON = pod.get("metadata") or {}
    return m


def uid(pod: JSON) -> str:
    return str(meta(pod).get("uid") or "")


def full_name(pod: JSON) -> str:
    """``name_namespace`` as the kubelet formats a pod in messages."""
    m = meta(pod)
    return f"{m.get('name')}_{m.get('namespace') or 'default'}"


def restart_policy(pod: JSON) -> str:
    return str(spec(pod).get("restartPolicy") or "Always")


def init_containers(pod: JSON) -> list[JSON]:
    return list(spec(pod).get("initContainers") or [])


def app_containers(pod: JSON) -> list[JSON]:
    return list(spec(pod).get("containers") or [])


def ephemeral_containers(pod: JSON) -> list[JSON]:
    return list(spec(pod).get("ephemeralContainers") or [])


def containers_of(pod: JSON, kind: str) -> list[JSON]:
    """The spec containers of one kind: ``init``, ``app`` or ``ephemeral``."""
    if kind == "init":
        return init_containers(pod)
    return ephemeral_containers(pod) if kind == "ephemeral" else app_containers(pod)


def is_sidecar(container: JSON) -> bool:
    """A restartable init container (``restartPolicy: Always``): a native sidecar."""
    return container.get("restartPolicy") == "Always"


def sidecars(pod: JSON) -> list[JSON]:
    return [c for c in init_containers(pod) if is_sidecar(c)]


def long_running(pod: JSON) -> list[tuple[JSON, str]]:
    """The containers that run alongside the app and are probed: the native sidecars
    (kind ``init``) in order, then the app containers (kind ``app``)."""
    return [(c, "init") for c in sidecars(pod)] + [(c, "app") for c in app_containers(pod)]


def grace_period(pod: JSON) -> int:
    m = meta(pod)
    if m.get("deletionGracePeriodSeconds") is not None:
        return int(m["deletionGracePeriodSeconds"])
    v = spec(pod).get("terminationGracePeriodSeconds")
    return int(v) if v is not None else 30


def pull_policy(container: JSON) -> str:
    """``imagePullPolicy``, defaulted as the API server does: Always for ``:latest`` or
    no tag, IfNotPresent otherwise."""
    policy = container.get("imagePullPolicy")
    if policy:
        return str(policy)
    image = str(container.get("image") or "")
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def container_hash(container: JSON) -> str:
    """A stable hash of one container's spec; a change restarts the container."""
    return hashlib.sha256(orjson.dumps(container, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def find(containers: Sequence[JSON], name: str) -> JSON | None:
    for c in containers:
        if c.get("name") == name:
            return c
    return None


def is_mirror(pod: JSON) -> bool:
    return "kubernetes.io/config.mirror" in (meta(pod).get("annotations") or {})
