"""pods/log, exec, attach and portforward: the API server's proxy to kubelets.

The pod names the node; the Node object names the kubelet (``status.addresses`` InternalIP
and ``status.daemonEndpoints.kubeletEndpoint.Port``). Contracts:

- ``log``: the kubelet's text is streamed back chunked as ``text/plain``; a kubelet error
  becomes ``400 BadRequest`` with the kubelet's message (as kube-apiserver's streamer).
- ``exec``/``attach``/``portforward`` are upgrade-aware: the client's upgrade request
  (WebSocket or SPDY/3.1 headers unchanged) is replayed to the kubelet on a new
  connection; a ``101`` is relayed to the client and from then on bytes are piped both ways
  until either side closes. Any other answer, or a request without an upgrade, is a
  ``Status`` error, so kubectl falls back from WebSocket to SPDY.
- ``portforward``'s ``ports`` become the kubelet's ``port`` parameters (the WebSocket
  channel protocol needs them; kubectl's SPDY forms name ports in stream headers).
- Container names are checked (and defaulted) here with kube's messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from dataclasses import dataclass
from urllib.parse import urlencode

import aiohttp
import orjson
from aiohttp import web

from kubelite.aio import tasks as aiotasks
from kubelite.api import errors, scheme
from kubelite.api.meta import JSON
from kubelite.apiserver import paths
from kubelite.apiserver.pki import PKI, ensure_kubelet_client
from kubelite.apiserver.registry import Registry
from kubelite.apiserver.rest import ResourceHandlers
from kubelite.streaming import channel
from kubelite.streaming.upgrade import RawUpgrade

log = logging.getLogger(__name__)

DEFAULT_KUBELET_PORT = 10250
DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"
_FORWARDED = ("Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version",
              "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions",
              "X-Stream-Protocol-Version")
_RELAYED = ("Upgrade", "Connection", "Sec-WebSocket-Accept", "Sec-WebSocket-Protocol",
            "Sec-WebSocket-Extensions", "X-Stream-Protocol-Version")
_MAX_HEAD = 64 * 1024
_REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
            409: "Conflict", 503: "ServiceUnavailable"}


@dataclass(frozen=True)
class KubeletClient:
    """How the API server reaches kubelets: TLS with a client certificate, or plain HTTP."""

    ssl: ssl.SSLContext | None = None

    @classmethod
    def from_pki(cls, pki: PKI) -> KubeletClient:
        """Verify kubelets against the cluster CA; present the kubelet-client certificate."""
        cert, key = ensure_kubelet_client(pki)
        ctx = ssl.create_default_context(cafile=str(pki.ca_cert))
        ctx.load_cert_chain(cert, key)
        ctx.set_alpn_protocols(["http/1.1"])
        return cls(ctx)

    @property
    def scheme(self) -> str:
        return "https" if self.ssl is not None else "http"


def _lookup(plural: str) -> scheme.Resource:
    res = scheme.lookup("", "v1", plural)
    assert res is not None
    return res


def _names(items: list[JSON] | None) -> list[str]:
    return [str(c.get("name", "")) for c in items or []]


def pick_container(pod: JSON, requested: str) -> str:
    """The container a request is for, with kube's defaulting and messages."""
    spec = pod.get("spec") or {}
    name = pod["metadata"]["name"]
    containers = _names(spec.get("containers"))
    inits = _names(spec.get("initContainers"))
    ephemeral = _names(spec.get("ephemeralContainers"))
    if requested:
        if requested not in (*containers, *inits, *ephemeral):
            raise errors.bad_request(f"container {requested} is not valid for pod {name}")
        return requested
    annotated = str((pod["metadata"].get("annotations") or {})
                    .get(DEFAULT_CONTAINER_ANNOTATION, ""))
    if annotated and annotated in containers:
        return annotated
    if len(containers) == 1:
        return containers[0]
    if not containers:
        raise errors.bad_request(f"pod {name} does not have any containers")
    message = (f"a container name must be specified for pod {name}, choose one of: "
               f"[{' '.join(containers)}]")
    if inits:
        message += f" or one of the init containers: [{' '.join(inits)}]"
    if ephemeral:
        message += f" or one of the ephemeral containers: [{' '.join(ephemeral)}]"
    raise errors.bad_request(message)


def check_log_status(pod: JSON, container: str, previous: bool) -> None:
    """Refuse logs of a container that has none yet, as the kubelet words it."""
    status = pod.get("status") or {}
    name = pod["metadata"]["name"]
    statuses = [*(status.get("containerStatuses") or []),
                *(status.get("initContainerStatuses") or []),
                *(status.get("ephemeralContainerStatuses") or [])]
    cs = next((s for s in statuses if s.get("name") == container), None)
    if cs is None:
        if not statuses and (status.get("phase") in (None, "", "Pending")):
            raise errors.bad_request(
                f'container "{container}" in pod "{name}" is waiting to start: '
                "ContainerCreating")
        raise errors.bad_request(f'container "{container}" in pod "{name}" is not available')
    state = cs.get("state") or {}
    last = (cs.get("lastState") or {}).get("terminated")
    if previous:
        if not last or not last.get("containerID"):
            raise errors.bad_request(
                f'previous terminated container "{container}" in pod "{name}" not found')
        return
    if "running" in state or "terminated" in state or last:
        return
    waiting = state.get("waiting")
    reason = (waiting or {}).get("reason", "")
    if reason == "ErrImagePull":
        why = "image can't be pulled"
    elif reason == "ImagePullBackOff":
        why = "trying and failing to pull image"
    elif reason:
        why = reason
    else:
        raise errors.bad_request(
            f'container "{container}" in pod "{name}" is waiting to start - no logs yet')
    raise errors.bad_request(f'container "{container}" in pod "{name}" is waiting to start: '
                             f"{why}")


def kubelet_port_query(values: list[str]) -> str:
    """The kubelet's query (``port=80&port=8080``) for the API's ``ports`` values (repeated
    or comma-separated, as kube-apiserver converts them); "" when none were given."""
    if not values:
        return ""
    try:
        ports = channel.parse_ports(values)
    except ValueError as exc:
        raise errors.bad_request(str(exc).replace('"port"', '"ports"')) from None
    return urlencode([("port", str(p)) for p in ports])


def kubelet_address(node: JSON) -> tuple[str, int]:
    """(host, port) of a node's kubelet."""
    status = node.get("status") or {}
    addresses = status.get("addresses") or []
    host = ""
    for kind in ("InternalIP", "ExternalIP", "Hostname"):
        host = next((a.get("address", "") for a in addresses if a.get("type") == kind), "")
        if host:
            break
    port = (((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {})
            .get("Port") or DEFAULT_KUBELET_PORT)
    if not host:
        raise errors.bad_request(f"node {node['metadata']['name']} has no address")
    return host, int(port)


def _status_from_answer(code: int, body: bytes) -> errors.StatusError:
    try:
        doc = orjson.loads(body)
        if isinstance(doc, dict) and doc.get("kind") == "Status":
            return errors.StatusError(int(doc.get("code") or code), str(doc.get("reason", "")),
                                      str(doc.get("message", "")), doc.get("details"))
    except orjson.JSONDecodeError:
        pass
    text = body.decode(errors="replace").strip()
    if code >= 500:
        return errors.internal(text or f"kubelet answered {code}")
    return errors.StatusError(code if code in _REASONS else 400,
                              _REASONS.get(code, "BadRequest"), text)


class KubeletProxy:
    """The handlers of pods/log, pods/exec, pods/attach and pods/portforward."""

    def __init__(self, registry: Registry, client: KubeletClient) -> None:
        self.registry = registry
        self.client = client
        self._pods = _lookup("pods")
        self._nodes = _lookup("nodes")
        self._session: aiohttp.ClientSession | None = None

    def install(self, handlers: ResourceHandlers) -> None:
        handlers.subresource_handlers[("pods", "log")] = self.logs
        for sub in ("exec", "attach", "portforward"):
            handlers.subresource_handlers[("pods", sub)] = self.stream

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _pod_and_node(self, info: paths.RequestInfo) -> tuple[JSON, str, int]:
        assert info.name is not None
        pod = await self.registry.get(self._pods, info.namespace, info.name)
        node_name = (pod.get("spec") or {}).get("nodeName") or ""
        if not node_name:
            return pod, "", 0
        node = await self.registry.get(self._nodes, None, node_name)
        host, port = kubelet_address(node)
        return pod, host, port

    def _host(self, host: str, port: int) -> str:
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    # -- logs ----------------------------------------------------------------------------

    async def logs(self, request: web.Request, info: paths.RequestInfo) -> web.StreamResponse:
        if request.method != "GET":
            raise errors.method_not_allowed()
        pod, host, port = await self._pod_and_node(info)
        q = request.query
        previous = q.get("previous", "").lower() in ("true", "1")
        container = pick_container(pod, q.get("container", ""))
        check_log_status(pod, container, previous)
        if not host:
            return web.Response(body=b"", content_type="text/plain")
        params: list[tuple[str, str]] = []
        for key in ("follow", "previous", "timestamps"):
            if q.get(key, "").lower() in ("true", "1"):
                params.append((key, "true"))
        for key in ("sinceSeconds", "sinceTime", "tailLines", "limitBytes"):
            if q.get(key):
                params.append((key, q[key]))
        meta = pod["metadata"]
        url = (f"{self.client.scheme}://{self._host(host, port)}/containerLogs/"
               f"{meta['namespace']}/{meta['name']}/{container}")
        if params:
            url += "?" + urlencode(params)
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=10))
        try:
            upstream = await self._session.get(url, ssl=self.client.ssl or False)
        except aiohttp.ClientError as exc:
            raise errors.internal(f'Get "{url}": {exc}') from None
        async with upstream:
            if upstream.status != 200:
                raise _status_from_answer(upstream.status, await upstream.read())
            resp = web.StreamResponse(headers={"Content-Type": "text/plain"})
            resp.enable_chunked_encoding()
            await resp.prepare(request)
            with contextlib.suppress(ConnectionError, aiohttp.ClientError):
                async for chunk in upstream.content.iter_any():
                    await resp.write(chunk)
                await resp.write_eof()
            return resp

    # -- exec / attach / portforward -----------------------------------------------------

    async def stream(self, request: web.Request, info: paths.RequestInfo) -> web.StreamResponse:
        if request.method not in ("GET", "POST"):
            raise errors.method_not_allowed()
        pod, host, port = await self._pod_and_node(info)
        meta = pod["metadata"]
        sub = info.subresource
        phase = (pod.get("status") or {}).get("phase", "")
        if sub in ("exec", "attach"):
            container = pick_container(pod, request.query.get("container", ""))
            if phase in ("Succeeded", "Failed"):
                raise errors.bad_request(
                    f"cannot exec into or attach to a container in a completed pod; current "
                    f"phase is {phase}")
            path = f"/{sub}/{meta['namespace']}/{meta['name']}/{container}"
            query = request.raw_path.partition("?")[2]
        else:
            if phase != "Running" and phase:
                raise errors.bad_request(
                    f"unable to forward port because pod is not running. Current status="
                    f"{phase}")
            path = f"/portForward/{meta['namespace']}/{meta['name']}"
            query = kubelet_port_query(request.query.getall("ports", []))
        if not host:
            raise errors.bad_request(f"pod {meta['name']} does not have a host assigned")
        if "upgrade" not in request.headers.get("Connection", "").lower() or \
                not request.headers.get("Upgrade"):
            raise errors.bad_request("Upgrade request required")
        return await self._relay(request, host, port, path + (f"?{query}" if query else ""))

    async def _relay(self, request: web.Request, host: str, port: int,
                     target: str) -> web.StreamResponse:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, ssl=self.client.ssl,
                                        server_hostname=host if self.client.ssl else None),
                10.0)
        except (OSError, TimeoutError, ssl.SSLError) as exc:
            raise errors.internal(f"error dialing backend: {exc}") from None
        try:
            head = [f"{request.method} {target} HTTP/1.1", f"Host: {self._host(host, port)}"]
            for name in _FORWARDED:
                for value in request.headers.getall(name, []):
                    head.append(f"{name}: {value}")
            if request.method == "POST":
                head.append("Content-Length: 0")
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
            await writer.drain()
            try:
                raw_head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
                raise errors.internal(f"error reading answer of the kubelet: {exc}") from None
            lines = raw_head.decode("latin-1").split("\r\n")
            try:
                code = int(lines[0].split(" ", 2)[1])
            except (IndexError, ValueError):
                raise errors.internal("malformed answer from the kubelet") from None
            headers: list[tuple[str, str]] = []
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers.append((k.strip(), v.strip()))
            if code != 101:
                length = next((int(v) for k, v in headers if k.lower() == "content-length"),
                              None)
                body = await (reader.readexactly(length) if length is not None
                              else reader.read(_MAX_HEAD))
                raise _status_from_answer(code, body)
            relayed = [(k, v) for k, v in headers if k.title() in
                       {h.title() for h in _RELAYED}]
            raw = RawUpgrade(relayed)
            await raw.prepare(request)
            await _pipe(raw, reader, writer)
            return raw
        finally:
            if not writer.is_closing():
                writer.close()


async def _pipe(client: RawUpgrade, reader: asyncio.StreamReader,
                writer: asyncio.StreamWriter) -> None:
    """Copy bytes both ways until one side closes, then close both."""

    async def up() -> None:
        while chunk := await client.read():
            writer.write(chunk)
            await writer.drain()

    async def down() -> None:
        while chunk := await reader.read(65536):
            await client.write(chunk)

    tasks = [asyncio.create_task(up()), asyncio.create_task(down())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        await aiotasks.stop(tasks, errors="ignore")  # a peer that hung up is no error
        await client.close()
        writer.close()


def install(handlers: ResourceHandlers, registry: Registry, client: KubeletClient) -> KubeletProxy:
    proxy = KubeletProxy(registry, client)
    proxy.install(handlers)
    return proxy
