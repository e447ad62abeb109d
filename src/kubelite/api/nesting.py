"""How deep an accepted API document may nest, checked without recursion.

Every document the API server accepts (request bodies, patch documents and results) is
bounded by :data:`MAX_DEPTH`, so that no stored object can later fail to serialise or
recurse past Python's limit in a walker.
"""

from __future__ import annotations

from typing import Any

from kubelite.api import errors

MAX_DEPTH = 100
"""Nesting levels an accepted document may have (kube's decoders allow 10,000; the stored
form must stay well under orjson's limit of 254 levels with list and watch envelopes, and
under Python's recursion limit in every walker)."""



def check_depth(value: Any, limit: int = MAX_DEPTH, what: str = "json") -> None:
    """Raise a 400 when ``value`` nests deeper than ``limit`` containers (no recursion);
    a ``limit`` below :data:`MAX_DEPTH` is what remains under an enclosing document."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            raise errors.bad_request(depth_error(what, MAX_DEPTH))
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))


def depth_error(what: str, limit: int) -> str:
    return f"{what}: exceeded max depth of {limit}"
