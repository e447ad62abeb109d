"""The options every write request carries in its query: ``dryRun`` and ``fieldManager``.

Contract: :func:`dry_run` is true for ``dryRun=All`` and a 400 for any other value, as
kube-apiserver answers; :func:`field_manager` is the manager a create, update or non-apply
patch records (see :func:`kubelite.apiserver.patching.field_manager`).
"""

from __future__ import annotations

from aiohttp import web

from kubelite.api import errors
from kubelite.apiserver import patching


def dry_run(request: web.Request) -> bool:
    values = request.query.getall("dryRun", [])
    for v in values:
        if v != "All":
            raise errors.bad_request(f'unsupported dry run option "{v}"')
    return bool(values)


def field_manager(request: web.Request, options_kind: str) -> str:
    return patching.field_manager(request.query, request.headers.get("User-Agent", ""),
                                  options_kind)
