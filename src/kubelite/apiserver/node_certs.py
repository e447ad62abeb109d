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
from kubelite.apiserver.pki import PKI, certificate_hosts, issue_serving_cert

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


# names only the API server (or the cluster's Services) may answer for
_RESERVED_SUFFIXES = (".svc", ".svc.cluster.local", ".cluster.local")
_RESERVED_NAMES = frozenset({"localhost", "kubernetes", "kubernetes.default"})


def refused_hosts(node: str, hosts: list[str], server_hosts: set[str]) -> list[str]:
    """The names among ``node`` and ``hosts`` a node's serving certificate may not carry.

    As kube's kubelet-serving signer and node authorizer: a node's certificate names the
    node (CN ``system:node:<name>``, its one DNS name) and its IP addresses, nothing the API
    server answers for (its certificate's names and addresses, loopback, the ``kubernetes``
    Service names), no other DNS name and no unspecified or multicast address."""
    refused: list[str] = []
    for host in [node, *hosts]:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            name = host.lower()
            if (name != node.lower() or name in _RESERVED_NAMES or name in server_hosts
                    or name.endswith(_RESERVED_SUFFIXES)):
                refused.append(host)
            continue
        if (ip.is_loopback or ip.is_unspecified or ip.is_multicast or ip.is_link_local
                or str(ip) in server_hosts):
            refused.append(host)
    return list(dict.fromkeys(refused))


def add_routes(app: web.Application, pki: PKI) -> None:
    """Install the endpoints (only where the server has a CA, i.e. with TLS)."""
    server_hosts = certificate_hosts(pki.serving_cert)

    def require_node(request: web.Request) -> str:
        user = request.get(keys.USER)
        if user is None or not _NODE_GROUPS & set(user.groups):
            raise errors.forbidden(f"{SERVING_KUBELET_PATH} is for nodes only")
        return str(user.name)

    async def serving_kubelet(request: web.Request) -> web.Response:
        user = require_node(request)
        body = codec.decode_object(await codec.read_body(request),
                                   request.headers.get("Content-Type", ""))
        node = body.get("nodeName")
        hosts = body.get("hosts") or []
        if not _valid_host(node) or not isinstance(hosts, list) or not all(
                _valid_host(h) for h in hosts):
            raise errors.bad_request("nodeName and hosts must be host names or IP addresses")
        assert isinstance(node, str)
        refused = refused_hosts(node, hosts, server_hosts)
        if refused:
            raise errors.forbidden(
                f'certificatesigningrequests.certificates.k8s.io is forbidden: User "{user}" '
                f'cannot get a kubernetes.io/kubelet-serving certificate for '
                f'{", ".join(repr(h) for h in refused)}: a node\'s serving certificate may '
                f'only name the node ("{node}") and its IP addresses')
        cert, key = issue_serving_cert(pki, f"system:node:{node}", [node, *hosts],
                                       "system:nodes")
        return codec.json_response({"cert": cert.decode(), "key": key.decode(),
                                    "ca": pki.ca_cert.read_text()})

    async def cacerts(request: web.Request) -> web.Response:
        return web.Response(body=pki.ca_cert.read_bytes(), content_type="text/plain")

    app.router.add_post(SERVING_KUBELET_PATH, serving_kubelet)
    app.router.add_get(CACERTS_PATH, cacerts)
