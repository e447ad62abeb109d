"""Node join tokens in k3s' secure form: ``K10<sha256 of the CA certificate>::server:<secret>``.

The secret authenticates the node; the CA hash lets a joining agent trust the server:
it fetches ``/cacerts`` (public, like k3s), checks the hash, and only then sends the
secret over a verified connection. A bare secret still works, without that check.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

PREFIX = "K10"


@dataclass(frozen=True)
class JoinToken:
    secret: str
    ca_hash: str = ""  # hex sha256 of the CA certificate (PEM bytes); "" for a bare secret

    def __str__(self) -> str:
        return f"{PREFIX}{self.ca_hash}::server:{self.secret}" if self.ca_hash else self.secret


def ca_hash(ca_pem: bytes) -> str:
    return hashlib.sha256(ca_pem).hexdigest()


def parse(text: str) -> JoinToken:
    """A token as users pass it: the secure form, or a bare secret."""
    text = text.strip()
    if text.startswith(PREFIX) and "::" in text:
        head, _, rest = text.partition("::")
        _, _, secret = rest.partition(":")
        return JoinToken(secret or rest, head[len(PREFIX):].lower())
    return JoinToken(text)
