"""Patch application for the API server, and the write options of field management
(``fieldManager``, ``force``, server-side apply).

The algorithms live in ``kubelite.api`` (JSON patch, merge patch, strategic merge patch,
server-side apply); this module feeds them the kind's schema and the request's options.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson

from kubelite.api import errors, nesting, scheme
from kubelite.apiserver import codec, registry
from kubelite.apiserver.openapi import openapi
from kubelite.apiserver.patch import apply, patch
from kubelite.storage.interface import JSON

MAX_MANAGER_LENGTH = 128


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


def _options_invalid(kind: str, causes: list[errors.Cause]) -> errors.StatusError:
    return errors.invalid(kind, "", causes, "meta.k8s.io")


def _check_manager(manager: str) -> list[errors.Cause]:
    causes: list[errors.Cause] = []
    if len(manager.encode()) > MAX_MANAGER_LENGTH:
        causes.append(errors.Cause(
            "FieldValueTooLong", f"Too long: may not be more than {MAX_MANAGER_LENGTH} bytes",
            "fieldManager"))
    for i, ch in enumerate(manager):
        if not ch.isprintable():
            causes.append(errors.Cause(
                "FieldValueInvalid",
                f"Invalid value: {orjson.dumps(manager).decode()}: invalid character "
                f"U+{ord(ch):04X} (at position {i})", "fieldManager"))
    return causes


def field_manager(query: Mapping[str, str], user_agent: str, options_kind: str) -> str:
    """The manager a create, update or non-apply patch records: ``fieldManager``, or the
    User-Agent up to its first ``/`` (``kubectl``). 422 for an invalid ``fieldManager``."""
    manager = query.get("fieldManager", "")
    causes = _check_manager(manager)
    if options_kind == "PatchOptions" and "force" in query:
        causes.insert(0, errors.Cause("FieldValueForbidden",
                                      "Forbidden: may not be specified for non-apply patch",
                                      "force"))
    if causes:
        raise _options_invalid(options_kind, causes)
    if manager:
        return manager
    prefix = user_agent.split("/", 1)[0]
    out = ""
    for ch in prefix:
        if not ch.isprintable():
            continue
        if len((out + ch).encode()) > MAX_MANAGER_LENGTH:
            break
        out += ch
    return out


def apply_options(query: Mapping[str, str]) -> tuple[str, bool]:
    """The applier and ``force`` of a server-side apply; 422 without ``fieldManager``."""
    manager = query.get("fieldManager", "")
    causes = _check_manager(manager)
    if not manager:
        causes.insert(0, errors.Cause("FieldValueRequired",
                                      "Required value: is required for apply patch",
                                      "fieldManager"))
    if causes:
        raise _options_invalid("PatchOptions", causes)
    force = str(query.get("force", "")).lower()
    if force not in ("", "true", "false", "1", "0"):
        raise errors.bad_request(f'strconv.ParseBool: parsing "{query.get("force")}": '
                                 "invalid syntax")
    return manager, force in ("true", "1")


async def decode_apply(body: bytes) -> JSON:
    """An apply configuration: YAML or JSON, one object."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        value = await codec.load_yaml(body, "error decoding YAML: ")
    try:
        nesting.check_depth(value)
    except errors.StatusError as exc:
        raise errors.bad_request("error decoding YAML: " + exc.message) from None
    if not isinstance(value, dict):
        raise errors.bad_request(
            "error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot "
            "unmarshal array into Go value of type map[string]interface {}"
            if isinstance(value, list) else "error decoding YAML: not an object")
    return value


def server_side_apply(res: scheme.Resource, live: JSON | None, config: JSON, manager: str,
                      force: bool, now: str, subresource: str | None = None) -> JSON:
    """``config`` applied by ``manager`` to ``live`` (None: create), checked as kube checks
    the configuration's kind, version and name."""
    api_version = config.get("apiVersion") or ""
    kind = config.get("kind") or ""
    if kind != res.kind or api_version != res.api_version:
        raise errors.bad_request(f"invalid object type: {api_version}, Kind={kind}")
    schema = openapi.schema_for(res.group, res.version, res.kind)
    return apply.apply(live, config, manager=manager, force=force, schema=schema,
                       api_version=res.api_version, now=now, subresource=subresource or "",
                       keep=registry.ownership(res, subresource))
