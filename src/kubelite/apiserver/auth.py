"""Authentication: client certificates signed by the cluster CA, and bearer tokens.

Every request except the health endpoints must authenticate; anonymous requests get 401.
A client certificate's CN is the user and its O entries the groups (as kube-apiserver).
Tokens come from a CSV file ``token,user,uid,"group1,group2"`` (kube's token-auth-file).
"""

from __future__ import annotations

import csv
import hmac
import io
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from kubelite.api import errors
from kubelite.private_files import create_private, write_private

# Health, and the CA certificate (public; joining nodes check it against their token's hash)
ANONYMOUS_PATHS = frozenset({"/healthz", "/livez", "/readyz", "/cacerts"})


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: dict[str, str] = field(default_factory=dict)


class TokenFile:
    """Static bearer tokens, read from a CSV file (re-read when it changes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mtime = -1.0
        self._checked = 0.0
        self._tokens: dict[str, User] = {}

    def _reload(self) -> None:
        now = time.monotonic()
        if now - self._checked < 1.0:
            return
        self._checked = now
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            self._tokens = {}
            return
        if mtime == self._mtime:
            return
        tokens: dict[str, User] = {}
        with self.path.open(newline="") as f:
            for row in csv.reader(f):
                if len(row) < 2 or row[0].startswith("#"):
                    continue
                groups = tuple(g for g in (row[3] if len(row) > 3 else "").split(",") if g)
                tokens[row[0]] = User(row[1], groups, row[2] if len(row) > 2 else "")
        self._tokens = tokens
        self._mtime = mtime

    def lookup(self, token: str) -> User | None:
        """The user of a token; a node token in k3s' secure form counts by its secret."""
        if token.startswith("K10") and "::" in token:
            token = token.partition("::")[2].partition(":")[2]
        self._reload()
        for known, user in self._tokens.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                return user
        return None

    def replace_user(self, token: str, user: str, uid: str, groups: list[str]) -> None:
        """Make ``token`` the only token of ``user`` (the others are revoked at once);
        other users' tokens are kept. The file is rewritten atomically, mode 0600."""
        rows: list[list[str]] = []
        if self.path.exists():
            with self.path.open(newline="") as f:
                rows = [r for r in csv.reader(f)
                        if not (len(r) >= 2 and not r[0].startswith("#") and r[1] == user)]
        rows.append([token, user, uid, ",".join(groups)])
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        write_private(self.path, out.getvalue())
        self._checked = 0.0
        self._mtime = -1.0

    def add(self, token: str, user: str, uid: str, groups: list[str]) -> None:
        """Append a token (creating the file with mode 0600); effective at once."""
        self._checked = 0.0
        create_private(self.path)
        with self.path.open("a", newline="") as f:
            csv.writer(f).writerow([token, user, uid, ",".join(groups)])


def _cert_user(peercert: dict[str, Any] | None) -> User | None:
    if not peercert:
        return None
    cn = ""
    groups: list[str] = []
    for rdn in peercert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                cn = value
            elif key == "organizationName":
                groups.append(value)
    return User(cn, tuple(groups)) if cn else None


class Authenticator:
    """Finds the user of a request, or raises 401."""

    def __init__(self, tokens: TokenFile) -> None:
        self.tokens = tokens

    def authenticate(self, request: web.Request) -> User:
        header = request.headers.get("Authorization", "")
        if header[:7].lower() == "bearer ":
            user = self.tokens.lookup(header[7:].strip())
            if user is not None:
                return user
            raise errors.unauthorized()
        transport = request.transport
        peercert = transport.get_extra_info("peercert") if transport else None
        user = _cert_user(peercert)
        if user is not None:
            return user
        raise errors.unauthorized()
