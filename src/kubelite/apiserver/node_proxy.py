"""``nodes/NAME/proxy/PATH``: GET relayed to the node's kubelet, as kube-apiserver does.

Serves what monitoring reads through the API server (``kubectl get --raw
/api/v1/nodes/NAME/proxy/metrics/cadvisor``): the kubelet's answer is returned whole,
with its status and content type; the API server authenticates to the kubelet with its
kubelet-client certificate. Other methods answer 405 (nothing else is relayed yet); an
unreachable kubelet is a 503 ServiceUnavailable with kube's wording.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

import aiohttp
from aiohttp import web

from kubelite.api import errors
from kubelite.apiserver import paths
from kubelite.apiserver.proxy import KubeletClient, kubelet_address
from kubelite.apiserver.registry import Registry
from kubelite.apiserver.rest import ResourceHandlers


class NodeProxy:
    """The handler of ``nodes/proxy`` (GET only)."""

    def __init__(self, registry: Registry, client: KubeletClient) -> None:
        self.registry = registry
        self.client = client
        self._session: aiohttp.ClientSession | None = None

    def install(self, handlers: ResourceHandlers) -> None:
        handlers.subresource_handlers[("nodes", "proxy")] = self.proxy

    async def proxy(self, request: web.Request, info: paths.RequestInfo) -> web.StreamResponse:
        if request.method != "GET":
            raise errors.method_not_allowed()
        assert info.name is not None and info.resource is not None
        node = await self.registry.get(info.resource, None, info.name)
        host, port = kubelet_address(node)
        netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        path = "/".join(quote(p, safe="") for p in info.extra)
        url = f"{self.client.scheme}://{netloc}/{path}"
        if request.query:
            url += "?" + urlencode(list(request.query.items()))
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=60, sock_connect=10))
        try:
            async with self._session.get(url, ssl=self.client.ssl or False) as upstream:
                body = await upstream.read()
                return web.Response(body=body, status=upstream.status, headers={
                    "Content-Type": upstream.headers.get("Content-Type", "text/plain")})
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise errors.StatusError(503, "ServiceUnavailable",
                                     f'error trying to reach service: {exc}') from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
