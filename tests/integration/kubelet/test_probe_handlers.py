"""Probe handlers against real local servers (127.0.0.1) and the fake runtime's exec."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from kubelite.apiserver.pki import ensure_pki
from kubelite.kubelet.prober.handlers import Target, run_handler
from kubelite.kubelet.prober.spec import ProbeType, parse_probe
from kubelite.kubelet.prober.state import Result
from kubelite.runtime.protocol import (
    ContainerConfig,
    ExecTimeout,
    ImageSpec,
    PodSandboxConfig,
)
from kubelite.testing.fake_runtime import FakeRuntime
from kubelite.testing.grpc_health_server import GrpcHealthServer


def spec(probe: dict[str, Any]) -> Any:
    s = parse_probe(ProbeType.LIVENESS, probe)
    assert s is not None
    return s


IMAGE = ImageSpec(ref="busybox", layers=())
CONTAINER = {"name": "app", "ports": [{"name": "http", "containerPort": 0}]}


async def run(probe: dict[str, Any], container: dict[str, Any] | None = None,
              runtime: Any = None, cid: str = "") -> Any:
    return await run_handler(spec(probe), Target(cid, container or CONTAINER, "127.0.0.1"),
                             runtime or FakeRuntime())


@pytest.fixture
async def http_server(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    seen: list[dict[str, str]] = []
    released = asyncio.Event()  # a slow answer comes only when the test is over

    async def handler(request: web.Request) -> web.StreamResponse:
        seen.append(dict(request.headers) | {"path": request.path_qs})
        if request.path == "/ok":
            return web.Response(text="fine")
        if request.path == "/slow":
            await released.wait()  # no answer in time: the probe times out
            return web.Response(text="late")
        if request.path == "/same":
            raise web.HTTPFound("/ok")
        if request.path == "/away":
            raise web.HTTPFound("http://localhost:1/elsewhere")
        if request.path == "/big":
            return web.Response(body=b"x" * 100_000)
        return web.Response(status=500, text="boom")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    pki = ensure_pki(tmp_path / "pki")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(pki.serving_cert, pki.serving_key)
    tls = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ctx)
    await tls.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    tls_port = tls._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield {"port": port, "tls_port": tls_port, "seen": seen}
    released.set()
    await runner.cleanup()


def closed_port() -> int:
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


async def test_http_success_failure_and_headers(http_server: dict[str, Any]) -> None:
    port = http_server["port"]
    o = await run({"httpGet": {"path": "/ok", "port": port,
                               "httpHeaders": [{"name": "X-Probe", "value": "yes"}]}})
    assert (o.result, o.output) == (Result.SUCCESS, "fine")
    h = http_server["seen"][-1]
    assert h["User-Agent"] == "kube-probe/1.32" and h["X-Probe"] == "yes"
    assert h["Host"] == f"127.0.0.1:{port}"
    o = await run({"httpGet": {"path": "/ok", "port": port, "httpHeaders": [
        {"name": "Host", "value": "example.com"}, {"name": "User-Agent", "value": "me"}]}})
    assert http_server["seen"][-1]["Host"] == "example.com"
    assert http_server["seen"][-1]["User-Agent"] == "me"
    o = await run({"httpGet": {"path": "/fail", "port": port}})
    assert (o.result, o.output) == (Result.FAILURE, "HTTP probe failed with statuscode: 500")


async def test_http_port_by_name_redirects_and_limits(http_server: dict[str, Any]) -> None:
    port = http_server["port"]
    c = {"name": "app", "ports": [{"name": "web", "containerPort": port}]}
    o = await run({"httpGet": {"path": "/same", "port": "web"}}, c)
    assert (o.result, o.output, o.warning) == (Result.SUCCESS, "fine", False)
    assert http_server["seen"][-1]["path"] == "/ok"
    o = await run({"httpGet": {"path": "/away", "port": port}})
    assert o.result == Result.SUCCESS and o.warning
    assert o.output.startswith("Probe terminated redirects, Response body: ")
    o = await run({"httpGet": {"path": "/big", "port": port}})
    assert o.result == Result.SUCCESS and len(o.output) == 10 * 1024
    o = await run({"httpGet": {"path": "/", "port": "nope"}}, c)
    assert (o.result, o.error) == (Result.UNKNOWN,
                                   'strconv.Atoi: parsing "nope": invalid syntax')


async def test_http_refused_timeout_and_https(http_server: dict[str, Any]) -> None:
    dead = closed_port()
    o = await run({"httpGet": {"path": "/", "port": dead}})
    assert o.output == (f'Get "http://127.0.0.1:{dead}/": dial tcp 127.0.0.1:{dead}: '
                        "connect: connection refused")
    t = time.monotonic()
    o = await run({"httpGet": {"path": "/slow", "port": http_server["port"]},
                   "timeoutSeconds": 1})
    assert time.monotonic() - t < 2
    assert o.output == (f'Get "http://127.0.0.1:{http_server["port"]}/slow": context deadline '
                        "exceeded (Client.Timeout exceeded while awaiting headers)")
    o = await run({"httpGet": {"path": "/ok", "port": http_server["tls_port"],
                               "scheme": "HTTPS"}})
    assert (o.result, o.output) == (Result.SUCCESS, "fine")


async def test_tcp() -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        o = await run({"tcpSocket": {"port": port}})
        assert o.result == Result.SUCCESS
        c = {"name": "app", "ports": [{"name": "svc", "containerPort": port}]}
        assert (await run({"tcpSocket": {"port": "svc"}}, c)).result == Result.SUCCESS
    finally:
        server.close()
        await server.wait_closed()
    dead = closed_port()
    o = await run({"tcpSocket": {"port": dead}})
    assert (o.result, o.output) == (
        Result.FAILURE, f"dial tcp 127.0.0.1:{dead}: connect: connection refused")


async def test_grpc_health() -> None:
    srv = await GrpcHealthServer({"": "SERVING", "db": "NOT_SERVING"}).start()
    try:
        o = await run({"grpc": {"port": srv.port}})
        assert (o.result, o.output) == (Result.SUCCESS, "service healthy")
        o = await run({"grpc": {"port": srv.port, "service": "db"}})
        assert (o.result, o.output) == (Result.FAILURE,
                                        'service unhealthy (responded with "NOT_SERVING")')
        o = await run({"grpc": {"port": srv.port, "service": "other"}})
        assert o.output == ("error: health rpc probe failed: rpc error: code = NotFound "
                            "desc = unknown service")
        assert srv.calls == ["", "db", "other"]
    finally:
        await srv.close()
    dead = closed_port()
    o = await run({"grpc": {"port": dead}})
    assert o.output == (f'timeout: failed to connect service "127.0.0.1:{dead}" within 1s: '
                        "context deadline exceeded")


async def test_exec_results_and_timeout() -> None:
    outputs = {"ok": (0, b"fine\n", b""), "bad": (1, b"", b"cat: can't open 'x'\n")}

    def handler(cid: str, argv: list[str]) -> tuple[int, bytes, bytes]:
        if argv[0] == "hang":
            raise ExecTimeout("timed out")
        return outputs[argv[0]]

    rt = FakeRuntime(exec_handler=handler)
    sid = await rt.run_pod_sandbox(PodSandboxConfig(name="p", namespace="d", uid="u",
                                                    attempt=0))
    cfg = ContainerConfig(name="c", attempt=0, image=IMAGE, command=["sleep"])
    cid = await rt.create_container(sid, cfg,
                                    PodSandboxConfig(name="p", namespace="d", uid="u",
                                                     attempt=0))
    await rt.start_container(cid)
    o = await run({"exec": {"command": ["ok"]}}, runtime=rt, cid=cid)
    assert (o.result, o.output) == (Result.SUCCESS, "fine\n")
    o = await run({"exec": {"command": ["bad"]}}, runtime=rt, cid=cid)
    assert (o.result, o.output) == (Result.FAILURE, "cat: can't open 'x'\n")
    o = await run({"exec": {"command": ["hang", "10"]}}, runtime=rt, cid=cid)
    assert (o.result, o.output) == (Result.FAILURE, 'command "hang 10" timed out')
    await rt.stop_container(cid, 0)
    o = await run({"exec": {"command": ["ok"]}}, runtime=rt, cid=cid)
    assert o.result == Result.UNKNOWN and o.error
