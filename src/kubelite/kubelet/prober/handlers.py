"""The probe handlers: exec, httpGet, tcpSocket and grpc, with Kubernetes' outputs.

Contract: :func:`run_handler` never raises for the probed application's behaviour; it
returns an :class:`Outcome`. ``result`` is Success, Failure or Unknown; Unknown comes
with ``error`` (the probe could not be run: a port name that does not resolve, an exec
the runtime refused) and the worker then throws the result away, as the kubelet does.
Texts follow the Go kubelet 1.32 (``dial tcp 10.1.2.3:8081: connect: connection
refused``, ``HTTP probe failed with statuscode: 500``, ``command "x" timed out``...).
Network probes connect from the node to the pod IP (or ``host`` when given).
"""

from __future__ import annotations

import asyncio
import os
import ssl
import urllib.parse
from dataclasses import dataclass
from typing import Any

from kubelite.kubelet.prober import grpc_health
from kubelite.kubelet.prober.spec import JSON, ProbeSpec
from kubelite.kubelet.prober.state import Result
from kubelite.runtime.protocol import ContainerRuntime, ExecTimeout, RuntimeServiceError

USER_AGENT = "kube-probe/1.32"
MAX_READ = 10 * 1024  # exec output and HTTP body read limit
MAX_REDIRECTS = 10


@dataclass(frozen=True)
class Outcome:
    result: Result
    output: str = ""
    warning: bool = False  # a success worth an event (HTTP redirect not followed)
    error: str = ""


@dataclass(frozen=True)
class Target:
    """Where to probe: the container instance, its spec (named ports) and the pod IP."""

    container_id: str
    container: JSON
    pod_ip: str


class _PortError(Exception):
    pass


def resolve_port(value: Any, container: JSON) -> int:
    """A port number, or the containerPort named ``value`` (Kubernetes falls back to
    reading a name as a number and reports that parse error)."""
    if isinstance(value, int):
        return value
    name = str(value)
    for p in container.get("ports") or []:
        if p.get("name") == name:
            return int(p.get("containerPort") or 0)
    try:
        return int(name)
    except ValueError:
        raise _PortError(f'strconv.Atoi: parsing "{name}": invalid syntax') from None


def join_host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _dial_error(addr: str, exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"dial tcp {addr}: i/o timeout"
    if isinstance(exc, OSError) and exc.errno is not None:
        text = os.strerror(exc.errno)
        return f"dial tcp {addr}: connect: {text[:1].lower()}{text[1:]}"
    return f"dial tcp {addr}: {exc}"


async def run_handler(spec: ProbeSpec, target: Target, runtime: ContainerRuntime) -> Outcome:
    try:
        kind = spec.kind
        h = spec.handler
        if kind == "exec":
            return await probe_exec(runtime, target.container_id,
                                    [str(x) for x in h["exec"].get("command") or []],
                                    spec.timeout)
        if kind == "httpGet":
            hg = h["httpGet"]
            port = resolve_port(hg.get("port"), target.container)
            headers = [(str(x.get("name", "")), str(x.get("value", "")))
                       for x in hg.get("httpHeaders") or []]
            return await probe_http(str(hg.get("scheme") or "HTTP"),
                                    str(hg.get("host") or target.pod_ip), port,
                                    str(hg.get("path") or "/"), headers, spec.timeout)
        if kind == "tcpSocket":
            ts = h["tcpSocket"]
            port = resolve_port(ts.get("port"), target.container)
            return await probe_tcp(str(ts.get("host") or target.pod_ip), port, spec.timeout)
        if kind == "grpc":
            g = h["grpc"]
            return await probe_grpc(target.pod_ip, int(g.get("port") or 0),
                                    str(g.get("service") or ""), spec.timeout)
    except _PortError as exc:
        return Outcome(Result.UNKNOWN, error=str(exc))
    return Outcome(Result.UNKNOWN, error="missing probe handler")


async def probe_exec(runtime: ContainerRuntime, container_id: str, cmd: list[str],
                     timeout: int) -> Outcome:  # noqa: ASYNC109
    try:
        async with asyncio.timeout(timeout + 5):  # the runtime enforces ``timeout`` itself
            code, out, err = await runtime.exec_sync(container_id, cmd, float(timeout))
    except (ExecTimeout, TimeoutError):
        return Outcome(Result.FAILURE, f'command "{" ".join(cmd)}" timed out')
    except RuntimeServiceError as exc:
        return Outcome(Result.UNKNOWN, error=str(exc))
    text = (out + err)[:MAX_READ].decode(errors="replace")
    return Outcome(Result.SUCCESS if code == 0 else Result.FAILURE, text)


async def probe_tcp(host: str, port: int, timeout: int) -> Outcome:  # noqa: ASYNC109
    addr = join_host_port(host, port)
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError) as exc:
        return Outcome(Result.FAILURE, _dial_error(addr, exc))
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass
    return Outcome(Result.SUCCESS)


def _insecure() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


_TLS: ssl.SSLContext | None = None


async def _http_get(url: urllib.parse.SplitResult, headers: list[tuple[str, str]]
                    ) -> tuple[int, dict[str, str], bytes]:
    global _TLS
    host = url.hostname or ""
    port = url.port or (443 if url.scheme == "https" else 80)
    tls = None
    if url.scheme == "https":
        _TLS = _TLS or _insecure()
        tls = _TLS
    try:
        reader, writer = await asyncio.open_connection(host, port, ssl=tls,
                                                       server_hostname=host if tls else None)
    except OSError as exc:
        raise ConnectionError(_dial_error(join_host_port(host, port), exc)) from exc
    try:
        names = {k.lower() for k, _ in headers}
        lines = [f"GET {url.path or '/'}{'?' + url.query if url.query else ''} HTTP/1.1"]
        if "host" not in names:
            lines.append(f"Host: {url.netloc}")
        if "user-agent" not in names:
            lines.append(f"User-Agent: {USER_AGENT}")
        if "accept" not in names:
            lines.append("Accept: */*")
        lines += [f"{k}: {v}" for k, v in headers]
        lines.append("Connection: close")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        await writer.drain()
        status_line = await reader.readline()
        if not status_line:
            raise ConnectionError("EOF")
        parts = status_line.decode("latin-1").split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise ConnectionError(f"malformed HTTP response {status_line[:40]!r}")
        status = int(parts[1])
        resp_headers: dict[str, str] = {}
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            k, _, v = line.decode("latin-1").partition(":")
            resp_headers[k.strip().lower()] = v.strip()
        limit = MAX_READ
        if "content-length" in resp_headers:
            limit = min(limit, int(resp_headers["content-length"] or 0))
        body = b""
        while len(body) < limit:
            chunk = await reader.read(limit - len(body))
            if not chunk:
                break
            body += chunk
        return status, resp_headers, body
    finally:
        writer.close()


async def probe_http(scheme: str, host: str, port: int, path: str,
                     headers: list[tuple[str, str]], timeout: int) -> Outcome:  # noqa: ASYNC109
    scheme = scheme.lower()
    url = urllib.parse.urlsplit(f"{scheme}://{join_host_port(host, port)}{path}")
    first_host = url.hostname
    shown = url.geturl()
    try:
        async with asyncio.timeout(timeout):
            for _ in range(MAX_REDIRECTS + 1):
                status, resp_headers, body = await _http_get(url, headers)
                location = resp_headers.get("location")
                if 300 <= status < 400 and location:
                    nxt = urllib.parse.urlsplit(urllib.parse.urljoin(url.geturl(), location))
                    if nxt.hostname == first_host:
                        url = nxt
                        shown = url.geturl()
                        continue
                break
            else:
                return Outcome(Result.FAILURE, f'Get "{shown}": stopped after 10 redirects')
    except TimeoutError:
        return Outcome(Result.FAILURE, f'Get "{shown}": context deadline exceeded '
                                       "(Client.Timeout exceeded while awaiting headers)")
    except (ConnectionError, OSError, ValueError) as exc:
        return Outcome(Result.FAILURE, f'Get "{shown}": {exc}')
    text = body.decode(errors="replace")
    if 200 <= status < 400:
        if status >= 300:
            return Outcome(Result.SUCCESS, f"Probe terminated redirects, Response body: {text}",
                           warning=True)
        return Outcome(Result.SUCCESS, text)
    return Outcome(Result.FAILURE, f"HTTP probe failed with statuscode: {status}")


async def probe_grpc(host: str, port: int, service: str, timeout: int) -> Outcome:  # noqa: ASYNC109
    addr = join_host_port(host, port)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError):
        return Outcome(Result.FAILURE, f'timeout: failed to connect service "{addr}" within '
                                       f"{timeout}s: context deadline exceeded")
    try:
        async with asyncio.timeout_at(deadline):
            status = await grpc_health.check(reader, writer, addr, service, USER_AGENT)
    except TimeoutError:
        return Outcome(Result.FAILURE,
                       f"timeout: health rpc did not complete within {timeout}s")
    except grpc_health.GrpcError as exc:
        if exc.code == "Unimplemented":
            return Outcome(Result.FAILURE, "error: this server does not implement the grpc "
                                           f"health protocol (grpc.health.v1.Health): {exc}")
        return Outcome(Result.FAILURE, f"error: health rpc probe failed: {exc}")
    except (OSError, ValueError) as exc:
        return Outcome(Result.FAILURE, f"error: health rpc probe failed: {exc}")
    finally:
        writer.close()
    if status != "SERVING":
        return Outcome(Result.FAILURE, f'service unhealthy (responded with "{status}")')
    return Outcome(Result.SUCCESS, "service healthy")


__all__ = ["Outcome", "Target", "resolve_port", "run_handler"]
