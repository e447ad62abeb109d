"""Where request bodies and patch results become stored objects: bounded, typed, cleaned.

Every document the API server is about to store or act on passes :func:`typed_object`:

- nesting is bounded (:data:`~kubelite.api.nesting.MAX_DEPTH`), so nothing accepted can make a
  later LIST or WATCH fail to serialise;
- a built-in kind is decoded against its schema (:mod:`kubelite.apiserver.typed`): wrong JSON
  types are 400s, int32 out of range 422s, unknown fields are dropped, and by
  ``fieldValidation`` reported as warnings (``Warn``, the default), refused (``Strict``) or
  dropped silently (``Ignore``);
- kinds without a schema (custom resources) are only depth-checked.

Create and update bodies carry kube's ``<Kind> in version "v1" cannot be handled as a
<Kind>:`` prefix on type errors; patch results do not (kube reports them bare).
"""

from __future__ import annotations

from collections.abc import Mapping

from kubelite.api import errors, nesting, scheme
from kubelite.apiserver import query, typed
from kubelite.storage.interface import JSON

MODES = ("Strict", "Warn", "Ignore")


def validation_mode(params: Mapping[str, str]) -> str:
    """The ``fieldValidation`` directive (``Warn`` when absent); 400 for another value."""
    mode = params.get("fieldValidation", "") or "Warn"
    if mode not in MODES:
        raise errors.bad_request(
            f'invalid fieldValidation directive: "{mode}" (must be one of Ignore, Warn, '
            "or Strict)")
    return mode


def typed_object(res: scheme.Resource, obj: JSON, mode: str = "Ignore", *,
                 body: bool = False) -> tuple[JSON, list[str]]:
    """``obj`` as ``res``'s kind stores it, and the warnings ``mode`` asks for.

    ``body`` marks a create/update request body (kube's decode-error prefix)."""
    if typed.compiled(res.group, res.version, res.kind) is None:
        nesting.check_depth(obj)
    decoded = typed.decode(obj, res.group, res.version, res.kind, strict=mode == "Strict",
                           prefix=body)
    return decoded.obj, decoded.warnings() if mode == "Warn" else []


def typed_kind(obj: JSON, group: str, version: str, kind: str) -> JSON:
    """A request body of a fixed kind (Binding, Eviction, DeleteOptions, Scale), decoded as
    kube decodes it; unknown fields dropped."""
    if typed.compiled(group, version, kind) is None:
        nesting.check_depth(obj)
    return typed.decode(obj, group, version, kind, prefix=True).obj


def check_update_resource_version(obj: JSON) -> None:
    """A PUT's ``metadata.resourceVersion``, when set, must parse as the store's."""
    rv = (obj.get("metadata") or {}).get("resourceVersion")
    if rv:
        query.parse_resource_version(str(rv))
