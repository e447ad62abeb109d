"""``/openapi/v3`` and its group-version documents, cached by hash as kube-apiserver does.

A request with ``?hash=`` that matches gets ``Cache-Control: public, immutable`` and a far
``Expires``, so kubectl keeps the document in its HTTP cache; the root is never cached.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from aiohttp import web

from kubelite.api import errors
from kubelite.apiserver.openapi import openapi, openapi_v2


async def root(request: web.Request) -> web.Response:
    body = await asyncio.to_thread(openapi.root)
    return web.Response(body=body, content_type="application/json",
                        headers={"Cache-Control": "no-cache, private"})


async def document(request: web.Request) -> web.Response:
    path = request.match_info["path"].strip("/")
    try:
        body, digest = await asyncio.to_thread(
            lambda: (openapi.document(path), openapi.document_hash(path))
        )
    except KeyError:
        raise errors.StatusError(404, "NotFound",
                                 "the server could not find the requested resource") from None
    headers = {"Etag": f'"{digest}"', "Vary": "Accept"}
    asked = request.query.get("hash")
    if asked == digest:
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=365)
        headers["Cache-Control"] = "public, immutable"
        headers["Expires"] = expires.strftime("%a, %d %b %Y %H:%M:%S GMT")
    elif asked:
        # an old hash: point the client at the current document
        location = f"/openapi/v3/{path}?hash={digest}"
        return web.Response(status=301, headers={"Location": location, **headers})
    else:
        headers["Cache-Control"] = "no-cache, private"
    if request.headers.get("If-None-Match") == headers["Etag"]:
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type="application/json", headers=headers)


async def v2(request: web.Request) -> web.Response:
    """Swagger 2.0 as JSON; protobuf (all kubectl asks for here) is not served."""
    accept = request.headers.get("Accept", "")
    if accept and "json" not in accept and "*/*" not in accept:
        raise errors.not_acceptable(
            "only the following media types are accepted: application/json")
    body = await asyncio.to_thread(openapi_v2.document)
    return web.Response(body=body, content_type="application/json")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/openapi/v2", v2)
    app.router.add_get("/openapi/v3", root)
    app.router.add_get("/openapi/v3/", root)
    app.router.add_get("/openapi/v3/{path:.+}", document)
