"""The node credential gets serving certificates for its own node only."""

from __future__ import annotations

import socket
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509

from kubelite.apiserver.app import APIServer, ServingConfig
from kubelite.apiserver.auth import TokenFile
from kubelite.apiserver.node_certs import SERVING_KUBELET_PATH, refused_hosts
from kubelite.apiserver.pki import ensure_pki
from kubelite.testing.memory_store import MemoryStore

NODE_TOKEN = "n" * 32


@pytest.fixture
async def node_session(tmp_path: Path) -> AsyncIterator[aiohttp.ClientSession]:
    pki = ensure_pki(tmp_path / "tls")
    tokens = TokenFile(tmp_path / "tokens.csv")
    tokens.add(NODE_TOKEN, "kubelite:node", "", ["system:nodes"])
    store = MemoryStore()
    await store.start()
    api = APIServer(store, tokens, ServingConfig("127.0.0.1", 0, pki))
    await api.start()
    ctx = ssl.create_default_context(cafile=str(pki.ca_cert))
    async with aiohttp.ClientSession(
            base_url=api.url(), headers={"Authorization": f"Bearer {NODE_TOKEN}"},
            connector=aiohttp.TCPConnector(ssl=ctx)) as session:
        yield session
    await api.stop()
    await store.close()


@pytest.mark.parametrize(("node", "hosts"), [
    ("agent1", ["kubernetes.default.svc"]),
    ("agent1", ["127.0.0.1"]),
    ("agent1", ["::1"]),
    ("agent1", ["localhost"]),
    ("agent1", ["agent2"]),
    ("kubernetes", ["192.0.2.50"]),
    ("localhost", []),
    ("agent1", ["0.0.0.0"]),
    ("my-svc.default.svc.cluster.local", []),
    (socket.gethostname().lower(), []),  # the API server's own host name
])
async def test_node_token_is_refused_names_that_are_not_its_node(
        node_session: aiohttp.ClientSession, node: str, hosts: list[str]) -> None:
    async with node_session.post(SERVING_KUBELET_PATH,
                                 json={"nodeName": node, "hosts": hosts}) as r:
        assert r.status == 403
        status = await r.json()
    assert status["kind"] == "Status" and status["reason"] == "Forbidden"
    assert "is forbidden" in status["message"]
    assert "cert" not in status


async def test_node_token_gets_a_certificate_for_its_node_name_and_ip(
        node_session: aiohttp.ClientSession) -> None:
    async with node_session.post(SERVING_KUBELET_PATH,
                                 json={"nodeName": "agent1", "hosts": ["192.0.2.50"]}) as r:
        assert r.status == 200
        answer = await r.json()
    cert = x509.load_pem_x509_certificate(answer["cert"].encode())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["agent1"]
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["192.0.2.50"]
    subject = {a.oid._name: a.value for a in cert.subject}
    assert subject == {"commonName": "system:node:agent1", "organizationName": "system:nodes"}


def test_refused_hosts_table() -> None:
    server = {"apiserver.example", "10.0.0.1"}
    cases: list[tuple[str, list[str], list[str]]] = [
        ("n1", ["10.0.0.2"], []),
        ("n1", ["n1", "fd00::5"], []),
        ("n1", ["10.0.0.1"], ["10.0.0.1"]),
        ("apiserver.example", [], ["apiserver.example"]),
        ("n1", ["N2", "169.254.0.1", "224.0.0.1"], ["N2", "169.254.0.1", "224.0.0.1"]),
        ("n1", ["kubernetes.default"], ["kubernetes.default"]),
    ]
    for node, hosts, refused in cases:
        assert refused_hosts(node, hosts, server) == refused, (node, hosts)
