"""What a joining node gets from the server with its token: a serving certificate for its
kubelet signed by the cluster CA, and that CA (as k3s' serving-kubelet endpoint).

The API server verifies kubelets against the cluster CA when it proxies logs, exec and
port-forward; kubelets verify the API server's kubelet-client certificate against it.
"""

from __future__ import annotations

import ipaddress

from aiohttp import web

from kubelite.api import errors
from kubelite.api.names import is_dns1123_subdomain
from kubelite.apiserver import codec
from kubelite.apiserver import request_keys as keys
from kubelite.apiserver.pki import PKI, issue_serving_cert

SERVING_KUBELET_PATH = "/v1-kubelite/serving-kubelet"
CACERTS_PATH = "/cacerts"  # public: the cluster CA, for joining nodes to pin
_NODE_GROUPS = frozenset({"system:nodes", "system:masters"})


def _valid_host(value: object) -> bool:
    """An IP address or a DNS-1123 subdomain (what a node name or address may be)."""
    if not isinstance(value, str) or not value:
        return False
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return not is_dns1123_subdomain(value)


def add_routes(app: web.Application, pki: PKI) -> None:
    """Install the endpoints (only where the server has a CA, i.e. with TLS)."""

    def require_node(request: web.Request) -> None:
        user = request.get(keys.USER)
        if user is None or not _NODE_GROUPS & set(user.groups):
            raise errors.forbidden(f"{SERVING_KUBELET_PATH} is for nodes only")

    async def serving_kubelet(request: web.Request) -> web.Response:
        require_node(request)
        body = codec.decode_object(await codec.read_body(request),
                                   request.headers.get("Content-Type", ""))
        node = body.get("nodeName")
        hosts = body.get("hosts") or []
        if not _valid_host(node) or not isinstance(hosts, list) or not all(
                _valid_host(h) for h in hosts):
            raise errors.bad_request("nodeName and hosts must be host names or IP addresses")
        cert, key = issue_serving_cert(pki, f"system:node:{node}", [str(node), *hosts])
        return codec.json_response({"cert": cert.decode(), "key": key.decode(),
                                    "ca": pki.ca_cert.read_text()})

    async def cacerts(request: web.Request) -> web.Response:
        return web.Response(body=pki.ca_cert.read_bytes(), content_type="text/plain")

    app.router.add_post(SERVING_KUBELET_PATH, serving_kubelet)
    app.router.add_get(CACERTS_PATH, cacerts)
