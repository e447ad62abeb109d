"""One entry point for the PATCH body types kube-apiserver accepts.

:func:`apply_patch` decodes a request body by its ``Content-Type`` and applies it with
:mod:`~kubelite.apiserver.patch.jsonpatch`, :mod:`~kubelite.apiserver.patch.mergepatch` or
:mod:`~kubelite.apiserver.patch.smp`.
Server-side apply (``application/apply-patch+yaml``) needs field ownership and belongs to the
API server, not here. Errors are StatusErrors with kube's codes (400 bad body, 415 unknown or
unsupported type, 422 patch not applicable).
"""

from __future__ import annotations

from typing import Any

import orjson

from kubelite.api import errors, nesting
from kubelite.api.meta import JSON
from kubelite.apiserver.patch import jsonpatch, mergepatch, smp

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"


def unsupported_patch(content_type: str, strategic: bool = True) -> errors.StatusError:
    """415 for a patch type the target does not accept (SMP on kinds without a schema)."""
    types = [JSON_PATCH, MERGE_PATCH, APPLY_PATCH]
    if strategic:
        types.append(STRATEGIC_MERGE_PATCH)
    return errors.StatusError(
        415, "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(types))


def media_type(content_type: str) -> str:
    """The media type of a Content-Type header, without parameters, lower-case."""
    return content_type.split(";", 1)[0].strip().lower()


def decode(body: bytes) -> Any:
    """A patch document, nested at most :data:`~kubelite.api.nesting.MAX_DEPTH` levels."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise errors.bad_request(f"error decoding patch: {e}") from None
    try:
        nesting.check_depth(value)
    except errors.StatusError as e:
        raise errors.bad_request(f"error decoding patch: {e.message}") from None
    return value


def apply_patch(content_type: str, original: JSON, body: bytes,
                schema: JSON | None) -> JSON:
    """``original`` patched by ``body``; ``schema`` is the kind's resolved schema or None."""
    kind = media_type(content_type)
    if kind == STRATEGIC_MERGE_PATCH:
        if schema is None:
            raise unsupported_patch(content_type, strategic=False)
        return smp.apply(original, decode(body), schema)
    if kind == MERGE_PATCH:
        return mergepatch.apply(original, decode(body))
    if kind == JSON_PATCH:
        result = jsonpatch.apply(original, decode(body))
        if not isinstance(result, dict):
            raise errors.bad_request("the patched object is not a JSON object")
        return result
    raise unsupported_patch(content_type, strategic=schema is not None)
