"""Object metadata helpers: timestamps, uids, generated names, keys and owners.

Pure functions over JSON objects (plus the random sources of uids and generated
names). Timestamps come from :mod:`kubelite.api.meta_time`.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Mapping
from typing import Any

from kubelite.api.meta_time import rfc3339, utcnow

JSON = dict[str, Any]
"""A JSON object as decoded from the wire: the one alias every module uses."""


def dig(obj: Any, *path: str | int) -> Any:
    """The value at ``path`` inside nested objects and lists, or None.

    Each step is a key (for a dict) or an index (for a list); a missing key, an index out
    of range or a step into anything else gives None, so readers of untrusted bodies need
    no checks of their own: ``dig(pod, "spec", "containers", 0, "name")``.
    """
    cur: Any = obj
    for step in path:
        if isinstance(cur, dict):
            cur = cur.get(step)
        elif isinstance(cur, list) and isinstance(step, int) and -len(cur) <= step < len(cur):
            cur = cur[step]
        else:
            return None
    return cur


# utilrand's alphabet: no vowels (no accidental words) and no look-alikes (0/1/3).
GENERATE_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
GENERATE_NAME_RANDOM_LENGTH = 5
MAX_NAME_LENGTH = 63
MAX_GENERATED_PREFIX = MAX_NAME_LENGTH - GENERATE_NAME_RANDOM_LENGTH


def now_rfc3339(now: dt.datetime | None = None) -> str:
    """``now`` (default: the wall clock) as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return rfc3339(now if now is not None else utcnow())


def new_uid() -> str:
    """A fresh object uid (a random UUID in its canonical text form)."""
    return str(uuid.uuid4())


def random_suffix(length: int = GENERATE_NAME_RANDOM_LENGTH) -> str:
    """``length`` characters from Kubernetes' generateName alphabet."""
    return "".join(secrets.choice(GENERATE_NAME_ALPHABET) for _ in range(length))


def generate_name(base: str, suffix: str | None = None) -> str:
    """The name the API server gives for ``generateName: base``.

    As ``names.SimpleNameGenerator``: ``base`` is cut to 58 characters so that the result
    with its five random characters stays within 63.
    """
    if len(base) > MAX_GENERATED_PREFIX:
        base = base[:MAX_GENERATED_PREFIX]
    return base + (suffix if suffix is not None else random_suffix())


def namespace_key(obj: Mapping[str, Any]) -> str:
    """``namespace/name``, or ``name`` for cluster-scoped objects (client-go's cache key)."""
    meta = obj.get("metadata") or {}
    name = str(meta.get("name") or "")
    ns = meta.get("namespace")
    return f"{ns}/{name}" if ns else name


def split_namespace_key(key: str) -> tuple[str, str]:
    """The inverse of :func:`namespace_key`: ``(namespace, name)``, namespace ``""`` if none.

    Raises ValueError for keys with more than one ``/``.
    """
    parts = key.split("/")
    if len(parts) == 1:
        return "", parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    raise ValueError(f'unexpected key format: "{key}"')


def controller_of(obj: Mapping[str, Any]) -> JSON | None:
    """The owner reference with ``controller: true``, if any (``metav1.GetControllerOf``)."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("controller") is True:
            return ref
    return None


def is_controlled_by(obj: Mapping[str, Any], owner: Mapping[str, Any]) -> bool:
    """Whether ``owner`` (by uid) is ``obj``'s controller."""
    ref = controller_of(obj)
    owner_uid = (owner.get("metadata") or {}).get("uid")
    return ref is not None and bool(owner_uid) and ref.get("uid") == owner_uid


def controller_ref(owner: Mapping[str, Any]) -> JSON:
    """The ownerReference a controller puts on what it creates (``NewControllerRef``)."""
    meta = owner.get("metadata") or {}
    return {
        "apiVersion": owner.get("apiVersion", ""),
        "kind": owner.get("kind", ""),
        "name": meta.get("name", ""),
        "uid": meta.get("uid", ""),
        "controller": True,
        "blockOwnerDeletion": True,
    }
