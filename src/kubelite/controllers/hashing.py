"""The pod-template hash kube-controller-manager names ReplicaSets and labels pods with.

Contract: ``compute_hash(template, collision_count)`` is deterministic for equal templates
(key order does not matter), differs when ``collision_count`` differs, and is a string
over ``bcdfghjklmnpqrstvwxz2456789`` (no vowels, no look-alike digits), as upstream's
``controller.ComputeHash``: FNV-1a 32-bit over the template, then the collision count as
four little-endian bytes, and the decimal form of the sum mapped through that alphabet.

Upstream hashes Go's ``spew`` dump of the typed struct, which cannot be reproduced from
JSON; kubelite hashes the canonical JSON (sorted keys) of the template instead, so names
have the same form and stability but not the same value as a real cluster's.
"""

from __future__ import annotations

from typing import Any

import orjson

ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193


def fnv32a(data: bytes, h: int = _FNV_OFFSET) -> int:
    """FNV-1a, 32 bits, continuing from ``h``."""
    for b in data:
        h ^= b
        h = (h * _FNV_PRIME) & 0xFFFFFFFF
    return h


def safe_encode(s: str) -> str:
    """Each byte of ``s`` mapped to ``ALPHABET[byte % 27]`` (``rand.SafeEncodeString``)."""
    return "".join(ALPHABET[b % len(ALPHABET)] for b in s.encode())


def compute_hash(template: Any, collision_count: int | None = None) -> str:
    data = orjson.dumps(template, option=orjson.OPT_SORT_KEYS)
    h = fnv32a(data)
    if collision_count is not None:
        h = fnv32a(int(collision_count & 0xFFFFFFFF).to_bytes(4, "little"), h)
    return safe_encode(str(h))
