"""Run the real kubectl against a tiny recording HTTP server on 127.0.0.1.

The server answers discovery for the groups a test names, serves the objects a test gives
(by path), accepts every POST with a 201 and records its body, so tests decode exactly the
bytes kubectl sends without anything captured elsewhere being committed.
"""

from __future__ import annotations

import asyncio
import subprocess
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

JSON = dict[str, Any]


@dataclass
class Posted:
    path: str
    content_type: str
    body: bytes


@dataclass
class Capture:
    posts: list[Posted] = field(default_factory=list)
    returncode: int = 0
    stderr: str = ""


def _not_found() -> web.Response:
    return web.json_response({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                              "reason": "NotFound", "code": 404}, status=404)


async def capture(args: list[str], objects: dict[str, JSON] | None = None,
                  resources: dict[str, list[JSON]] | None = None) -> Capture:
    """kubectl ``args`` against the recorder; ``resources`` maps a group/version to its
    APIResourceList entries (discovery), ``objects`` maps request paths to bodies."""
    objects = objects or {}
    resources = resources or {}
    result = Capture()

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        if request.method in ("POST", "PUT"):
            result.posts.append(Posted(request.path, request.headers.get("Content-Type", ""),
                                       body))
            return web.json_response({"kind": "Status", "apiVersion": "v1",
                                      "status": "Success"}, status=201)
        if request.path in objects:
            return web.json_response(objects[request.path])
        if request.path == "/api":
            return web.json_response({"kind": "APIVersions", "versions": ["v1"],
                                      "serverAddressByClientCIDRs": []})
        if request.path == "/apis":
            groups = []
            for gv in resources:
                if "/" in gv:
                    group, version = gv.split("/")
                    ref = {"groupVersion": gv, "version": version}
                    groups.append({"name": group, "versions": [ref], "preferredVersion": ref})
            return web.json_response({"kind": "APIGroupList", "apiVersion": "v1",
                                      "groups": groups})
        for gv, listed in resources.items():
            if request.path == ("/api/" if "/" not in gv else "/apis/") + gv:
                return web.json_response({"kind": "APIResourceList", "groupVersion": gv,
                                          "resources": listed})
        return _not_found()

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    try:
        proc = await asyncio.create_subprocess_exec(
            "kubectl", "--server", f"http://127.0.0.1:{port}", *args,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
        result.returncode = proc.returncode or 0
        result.stderr = err.decode()
    finally:
        await runner.cleanup()
    return result


def dry_run_json(args: list[str]) -> JSON:
    """The object kubectl builds for ``args``, as it prints it with ``--dry-run=client``."""
    import json

    out = subprocess.run(
        ["kubectl", "--server", "http://127.0.0.1:1", *args, "--dry-run=client", "-o", "json"],
        capture_output=True, text=True, check=True, timeout=30)
    value: JSON = json.loads(out.stdout)
    return value
