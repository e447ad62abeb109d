"""Resolve a container's user from the pod spec, the image's User and the image's
``/etc/passwd`` and ``/etc/group`` (read from the top-most layer that has them)."""

from __future__ import annotations

import os
from collections.abc import Sequence

from kubelite.runtime.protocol import CreateContainerError, SecurityContext


def _find(layers: Sequence[str], rel: str) -> str | None:
    for layer in reversed(layers):
        path = os.path.join(layer, rel)
        if os.path.isfile(path):
            return path
    return None


def _table(layers: Sequence[str], rel: str) -> list[list[str]]:
    path = _find(layers, rel)
    if path is None:
        return []
    try:
        with open(path, errors="replace") as f:
            return [line.rstrip("\n").split(":") for line in f if line.strip()]
    except OSError:
        return []


def resolve_user(
    layers: Sequence[str], image_user: str, security: SecurityContext
) -> tuple[int, int, list[int]]:
    """(uid, gid, additional gids). runAsUser/runAsGroup win over the image's User."""
    passwd = _table(layers, "etc/passwd")
    groups = _table(layers, "etc/group")
    user, _, group = image_user.partition(":")
    uid: int | None = security.run_as_user
    home_gid: int | None = None
    name = ""
    if uid is None and user:
        if user.isdigit():
            uid = int(user)
        else:
            for row in passwd:
                if len(row) >= 4 and row[0] == user:
                    uid, home_gid, name = int(row[2]), int(row[3]), user
                    break
            else:
                raise CreateContainerError(f"unable to find user {user}: no matching entries")
    if uid is None:
        uid = 0
    if home_gid is None:
        for row in passwd:
            if len(row) >= 4 and row[2] == str(uid):
                home_gid, name = int(row[3]), row[0]
                break
    gid: int | None = security.run_as_group
    if gid is None and group:
        if group.isdigit():
            gid = int(group)
        else:
            for row in groups:
                if len(row) >= 3 and row[0] == group:
                    gid = int(row[2])
                    break
            else:
                raise CreateContainerError(f"unable to find group {group}: no matching entries")
    if gid is None:
        gid = home_gid if home_gid is not None else 0
    extra: list[int] = []
    if name:
        for row in groups:
            if len(row) >= 4 and name in row[3].split(",") and row[2].isdigit():
                extra.append(int(row[2]))
    return uid, gid, sorted(set(extra) - {gid})
