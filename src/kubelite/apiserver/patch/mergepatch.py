"""JSON merge patch (RFC 7386, ``application/merge-patch+json``).

Objects merge key by key, ``null`` removes a key, anything else (lists included) replaces the
target. The patch of a Kubernetes object must itself be a JSON object. Inputs are never
mutated.
"""

from __future__ import annotations

from typing import Any

import orjson

from kubelite.api import errors
from kubelite.api.meta import JSON


def apply(original: JSON, patch: Any) -> JSON:
    """``original`` with the merge ``patch`` applied."""
    if not isinstance(patch, dict):
        raise errors.bad_request("Invalid JSON Patch")
    result = merge(orjson.loads(orjson.dumps(original)), orjson.loads(orjson.dumps(patch)))
    assert isinstance(result, dict)
    return result


def merge(target: Any, patch: Any) -> Any:
    """RFC 7386 MergePatch(target, patch); both may be reused in the result."""
    if not isinstance(patch, dict):
        return patch
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = merge(target.get(key), value)
    return target

