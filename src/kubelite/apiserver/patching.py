"""Patch application for the API server, and unknown-field checks by fieldValidation mode.

The algorithms live in ``kubelite.api`` (JSON patch, merge patch, strategic merge patch);
this module feeds them the kind's schema.
"""

from __future__ import annotations

from kubelite.api import errors, fieldcheck, openapi, patch, scheme
from kubelite.storage.interface import JSON


def apply_patch(res: scheme.Resource | None, current: JSON, body: bytes,
                content_type: str) -> JSON:
    """``current`` (a private copy) patched by ``body`` of ``content_type``.

    ``res`` None means a kind without a schema (for example a Scale), where strategic merge
    patch is refused with 415 as for custom resources.
    """
    if patch.media_type(content_type) == patch.APPLY_PATCH:
        raise patch.unsupported_patch(content_type)
    schema = openapi.schema_for(res.group, res.version, res.kind) if res is not None else None
    return patch.apply_patch(content_type, current, body, schema)


def check_fields(res: scheme.Resource, obj: JSON, mode: str) -> list[str]:
    """Unknown fields per ``fieldValidation``: Strict raises 400, Warn (the default when
    absent) returns texts for Warning headers, Ignore checks nothing."""
    if mode not in ("Strict", "Warn", "Ignore"):
        raise errors.bad_request(
            f'invalid fieldValidation directive: "{mode}" (must be one of Ignore, Warn, '
            "or Strict)"
        )
    if mode == "Ignore":
        return []
    unknown = fieldcheck.unknown_fields(obj, res.group, res.version, res.kind)
    texts = [f'unknown field "{path}"' for path in unknown]
    if texts and mode == "Strict":
        raise errors.bad_request("strict decoding error: " + ", ".join(texts))
    return texts
