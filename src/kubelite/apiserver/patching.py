"""Patch application by content type, and unknown-field checks by fieldValidation mode.

The algorithms live in ``kubelite.api`` (JSON patch, merge patch, strategic merge patch);
this module picks one from the request's Content-Type as kube-apiserver does.
"""

from __future__ import annotations

from typing import Any

from kubelite.api import errors, fieldcheck, scheme
from kubelite.storage.interface import JSON

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH)


def _unsupported(content_type: str) -> errors.StatusError:
    return errors.StatusError(
        415, "UnsupportedMediaType",
        f"the body of the request was in an unknown format - accepted media types include: "
        f"{', '.join(PATCH_TYPES)}",
        None,
    ) if content_type else errors.bad_request("a patch needs a Content-Type")


def apply_patch(res: scheme.Resource | None, current: JSON, document: Any, content_type: str) -> Any:  # noqa: E501
    """Apply a patch document of ``content_type`` to a copy-safe ``current`` object."""
    raise _unsupported(content_type)


def check_fields(res: scheme.Resource, obj: JSON, mode: str) -> list[str]:
    """Unknown fields per ``fieldValidation``: Strict raises 400, Warn returns the warnings
    (``unknown field "spec.x"``) for Warning headers, Ignore checks nothing."""
    if mode not in ("Strict", "Warn", "Ignore", ""):
        raise errors.bad_request(
            f'invalid fieldValidation directive: "{mode}" (must be one of Ignore, Warn, '
            "or Strict)"
        )
    if mode == "Ignore":
        return []
    # absent means Warn, kube-apiserver's default
    unknown = fieldcheck.unknown_fields(obj, res.group, res.version, res.kind)
    texts = [f'unknown field "{path}"' for path in unknown]
    if texts and mode == "Strict":
        raise errors.bad_request("strict decoding error: " + ", ".join(texts))
    return texts
