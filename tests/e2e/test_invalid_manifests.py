"""Every manifest in tests/data/invalid gets a 422 naming the right fields, and is not stored.

Each file starts with ``# expect: <field path>`` lines: the causes the 422 must name.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import yaml

from kubelite.api import scheme
from kubelite.testing.server_process import ServerProcess, client_ssl_context

pytestmark = pytest.mark.e2e

DATA = Path(__file__).parent.parent / "data" / "invalid"
CASES = sorted(DATA.glob("*.yaml"))
MANIFESTS = {p: yaml.safe_load(p.read_text()) for p in CASES}


def expectations(path: Path) -> list[str]:
    return [line.split(":", 1)[1].strip() for line in path.read_text().splitlines()
            if line.startswith("# expect:")]


def test_there_are_at_least_30_cases() -> None:
    assert len(CASES) >= 30


@pytest.fixture
async def http(server: ServerProcess) -> AsyncIterator[aiohttp.ClientSession]:
    ctx = client_ssl_context(server.kubeconfig)
    async with aiohttp.ClientSession(base_url=server.url,
                                     connector=aiohttp.TCPConnector(ssl=ctx)) as s:
        yield s


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
async def test_invalid_manifest_is_refused_with_field_causes(
    http: aiohttp.ClientSession, path: Path
) -> None:
    obj = MANIFESTS[path]
    res = scheme.by_kind(obj["apiVersion"], obj["kind"])
    assert res is not None
    base = "/api/v1" if not res.group else f"/apis/{res.group}/{res.version}"
    ns = "/namespaces/default" if res.namespaced else ""
    url = f"{base}{ns}/{res.plural}"
    async with http.post(url, data=json.dumps(obj),
                         headers={"Content-Type": "application/json"}) as resp:
        body = await resp.json()
        assert resp.status == 422, body
    assert body["reason"] == "Invalid"
    assert body["details"]["kind"] == obj["kind"]
    fields = [c.get("field") for c in body["details"]["causes"]]
    for want in expectations(path):
        assert want in fields, (want, body["details"]["causes"])
    async with http.get(f"{url}/{obj['metadata']['name']}") as resp:
        assert resp.status == 404


def test_kubectl_prints_the_invalid_status(server: ServerProcess) -> None:
    r = server.kubectl("apply", "-f", str(DATA / "deployment-selector-mismatch.yaml"))
    assert r.returncode == 1
    assert 'The Deployment "deployment-selector-mismatch" is invalid' in r.stderr
    assert "spec.template.metadata.labels" in r.stderr
