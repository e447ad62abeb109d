"""Fuzz tier (crash class) against a real ``kubelite server`` process: deep YAML, alias
bombs and every other hostile example of issue 17 are refused as kube refuses them, the
process stays up, kubectl keeps answering, and nothing poisoned is stored."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubelite.testing import hostile
from kubelite.testing.server_process import ServerProcess, client_ssl_context

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[hostile.Client]:
    yield hostile.Client(server.url, ssl_context=client_ssl_context(server.kubeconfig),
                         timeout=30)


def _alive(server: ServerProcess) -> None:
    assert server.proc is not None and server.proc.poll() is None, server.log()[-2000:]
    started = time.monotonic()
    got = server.kubectl("get", "ns", "default", "-o", "name", timeout=20)
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() == "namespace/default"
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("case", hostile.crash_cases(), ids=lambda c: c.name)
def test_crash_class_is_refused_and_server_lives(
    server: ServerProcess, client: hostile.Client, case: hostile.Case,
) -> None:
    started = time.monotonic()
    resp = client.request(case.method, case.path, case.body, case.content_type)
    assert resp.status in case.codes, (resp.status, resp.body[:300])
    assert case.text in resp.message()
    assert time.monotonic() - started < 10
    _alive(server)
    assert client.request("GET", "/api/v1/configmaps").status == 200


@pytest.mark.parametrize("case", hostile.cases(), ids=lambda c: c.name)
def test_issue_example(server: ServerProcess, client: hostile.Client,
                       case: hostile.Case) -> None:
    for method, path, body in case.setup:
        client.request(method, path, body)
    resp = client.request(case.method, case.path, case.body, case.content_type)
    assert resp.status in case.codes, (resp.status, resp.body[:300])
    assert case.text in resp.message()
    if case.read_back:
        got = client.request("GET", case.read_back)
        assert hostile.stored_is_clean(got.json()) is None
    for method, path, body in case.setup:
        if method == "POST":
            name = hostile.orjson.loads(body)["metadata"]["name"]
            client.request("DELETE", f"{path}/{name}?gracePeriodSeconds=0")
    assert client.request("GET", "/api/v1/pods").status == 200


@settings(derandomize=True, max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(levels=st.sampled_from([101, 1_000, 10_000, 30_000, 60_000, 100_000]),
       width=st.integers(min_value=2, max_value=12),
       shape=st.sampled_from(["block", "flow", "bomb"]),
       ctype=st.sampled_from([hostile.YAML, hostile.APPLY]))
def test_generated_crash_bodies(server: ServerProcess, client: hostile.Client, levels: int,
                                width: int, shape: str, ctype: str) -> None:
    body = (hostile.deep_yaml(levels) if shape == "block"
            else hostile.deep_flow_yaml(levels) if shape == "flow"
            else hostile.alias_bomb(width, 9))
    name = "bomb" if shape == "bomb" else "deep"
    if ctype == hostile.APPLY:
        resp = client.request("PATCH", f"{hostile.CM}/{name}?fieldManager=f", body, ctype)
    else:
        resp = client.request("POST", hostile.CM, body, ctype)
    assert resp.status in (400, 413) or (shape == "bomb" and width <= 4), resp.body[:200]
    assert resp.status < 500
    if resp.status in (200, 201):
        got = client.request("GET", f"{hostile.CM}/{name}")
        assert len(got.body) < 7 * 1024 * 1024
        client.request("DELETE", f"{hostile.CM}/{name}")
    assert server.proc is not None and server.proc.poll() is None
    assert client.request("GET", "/api/v1/namespaces/default").status == 200


def test_kubectl_still_answers_after_everything(server: ServerProcess) -> None:
    _alive(server)
