"""Named network namespaces, one per pod: ``/run/netns/<prefix><sandbox id[:12]>``.

Created with ``ip netns add`` (a bind mount of the namespace file, so the namespace
lives without any process in it); removed with ``ip netns delete``.
"""

from __future__ import annotations

import os

from kubelite.network.errors import NamespaceError
from kubelite.network.proc import run

NETNS_DIR = "/run/netns"


def netns_name(prefix: str, sandbox_id: str) -> str:
    return f"{prefix}{sandbox_id[:12]}"


def netns_path(name: str) -> str:
    return os.path.join(NETNS_DIR, name)


async def create(name: str) -> str:
    """Create the namespace with loopback down (the CNI loopback plugin brings it up)."""
    path = netns_path(name)
    if _exists(path):
        return path  # idempotent: an earlier attempt made it
    code, _, err = await run(["ip", "netns", "add", name])
    if code != 0:
        raise NamespaceError(f"ip netns add {name}: {err.decode(errors='replace').strip()}")
    return path


async def delete(name: str) -> None:
    """Delete the namespace; no error if it does not exist."""
    if not _exists(netns_path(name)):
        return
    code, _, err = await run(["ip", "netns", "delete", name])
    if code != 0 and _exists(netns_path(name)):
        raise NamespaceError(f"ip netns delete {name}: {err.decode(errors='replace').strip()}")


def _exists(path: str) -> bool:
    return os.path.lexists(path)


def is_own(name: str, prefix: str) -> bool:
    """Whether ``name`` is ``prefix`` + a sandbox id's first 12 hex digits, exactly: the
    default prefix ``kubelite-`` must not claim another data dir's ``kubelite-<sfx>-...``."""
    rest = name[len(prefix):]
    return (name.startswith(prefix) and len(rest) == 12
            and all(c in "0123456789abcdef" for c in rest))


def list_names(prefix: str) -> list[str]:
    """This installation's pod namespaces (see :func:`is_own`)."""
    try:
        return sorted(n for n in os.listdir(NETNS_DIR) if is_own(n, prefix))
    except FileNotFoundError:
        return []
