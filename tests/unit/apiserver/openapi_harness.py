"""A tiny stand-in API server for kubectl: /version, aggregated discovery, /openapi/v3.

Only a test harness for the OpenAPI documents; the real server lives in kubelite.apiserver.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from kubelite.api import errors, scheme
from kubelite.apiserver import discovery
from kubelite.apiserver.openapi import openapi
from kubelite.apiserver.patch import patch

DISCOVERY_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
TOKEN = "harness-token"
REQUESTS = web.AppKey("requests", list[str])
PODS = web.AppKey("pods", dict[str, dict[str, Any]])


VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.4", "gitCommit": "harness",
           "gitTreeState": "clean", "buildDate": "2025-04-22T16:03:52Z",
           "goVersion": "go1.23.8", "compiler": "gc", "platform": "linux/amd64"}


def make_app() -> web.Application:
    requests: list[str] = []

    @web.middleware
    async def record(request: web.Request, handler: Any) -> web.StreamResponse:
        # kubectl sends no credentials to a plain-http server: none are checked here
        requests.append(request.path_qs)
        resp: web.StreamResponse = await handler(request)
        return resp

    async def version(_: web.Request) -> web.Response:
        return web.json_response(VERSION)

    async def api(_: web.Request) -> web.Response:
        return web.Response(body=discovery.aggregated([""]), content_type=None,
                            headers={"Content-Type": DISCOVERY_TYPE})

    async def apis(_: web.Request) -> web.Response:
        return web.Response(body=discovery.aggregated([g for g in scheme.groups() if g]),
                            headers={"Content-Type": DISCOVERY_TYPE})

    async def v3_root(_: web.Request) -> web.Response:
        return web.Response(body=openapi.root(), content_type="application/json")

    async def v3_doc(request: web.Request) -> web.Response:
        try:
            body = openapi.document(request.match_info["gv"])
        except KeyError:
            raise web.HTTPNotFound() from None
        return web.Response(body=body, content_type="application/json",
                            headers={"Cache-Control": "public, immutable"})

    pods: dict[str, dict[str, Any]] = {}

    def status(e: errors.StatusError) -> web.Response:
        return web.Response(body=orjson.dumps(e.status()), status=e.code,
                            content_type="application/json")

    async def get_pod(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in pods:
            return status(errors.not_found("pods", name))
        return web.Response(body=orjson.dumps(pods[name]), content_type="application/json")

    async def create_pod(request: web.Request) -> web.Response:
        obj = orjson.loads(await request.read())
        obj["metadata"].update(uid="u-1", resourceVersion="1")
        pods[obj["metadata"]["name"]] = obj
        return web.Response(body=orjson.dumps(obj), status=201,
                            content_type="application/json")

    async def patch_pod(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        requests.append(f"PATCH {request.content_type}")
        try:
            pods[name] = patch.apply_patch(request.headers["Content-Type"], pods[name],
                                           await request.read(),
                                           openapi.schema_for("", "v1", "Pod"))
        except errors.StatusError as e:
            return status(e)
        return web.Response(body=orjson.dumps(pods[name]), content_type="application/json")

    app = web.Application(middlewares=[record])
    app[REQUESTS] = requests
    app[PODS] = pods
    item = "/api/v1/namespaces/{namespace}/pods/{name}"
    app.router.add_get(item, get_pod)
    app.router.add_patch(item, patch_pod)
    app.router.add_post("/api/v1/namespaces/{namespace}/pods", create_pod)
    app.router.add_get("/version", version)
    app.router.add_get("/api", api)
    app.router.add_get("/apis", apis)
    app.router.add_get("/openapi/v3", v3_root)
    app.router.add_get("/openapi/v3/{gv:.+}", v3_doc)
    return app
