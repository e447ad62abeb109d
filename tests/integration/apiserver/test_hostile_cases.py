"""Every hostile request of issue 17 gets kube's answer from an in-process server, and
what is accepted is stored clean (typed, no unknown fields, no deep nesting)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kubelite.testing import hostile

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[hostile.ThreadedAPI]:
    server = hostile.ThreadedAPI(Path(tmp_path_factory.mktemp("hostile")))
    yield server
    server.close()


def _run(api: hostile.ThreadedAPI, case: hostile.Case) -> None:
    c = api.client
    for method, path, body in case.setup:
        c.request(method, path, body)
    resp = c.request(case.method, case.path, case.body, case.content_type)
    assert resp.status in case.codes, (resp.status, resp.body[:300])
    assert case.text in resp.message(), resp.message()
    if resp.status >= 400:
        assert resp.json()["kind"] == "Status"
    if case.read_back:
        got = c.request("GET", case.read_back)
        assert got.status == 200
        assert hostile.stored_is_clean(got.json()) is None, got.body[:300]
    for method, path, _ in case.setup:
        if method == "POST":
            name = (hostile.orjson.loads(_)["metadata"]["name"])
            c.request("DELETE", f"{path}/{name}?gracePeriodSeconds=0")
    everything = c.request("GET", "/api/v1/configmaps")
    assert everything.status == 200


@pytest.mark.parametrize("case", hostile.crash_cases(), ids=lambda c: c.name)
def test_crash_class_is_refused(api: hostile.ThreadedAPI, case: hostile.Case) -> None:
    _run(api, case)


@pytest.mark.parametrize("case", hostile.cases(), ids=lambda c: c.name)
def test_issue_example(api: hostile.ThreadedAPI, case: hostile.Case) -> None:
    _run(api, case)


def test_unknown_fields_warn_and_are_not_stored(api: hostile.ThreadedAPI) -> None:
    c = api.client
    resp = c.request("POST", hostile.DEPLOYS, hostile.dumps(
        {**hostile.deployment("warned"), "spec": {
            **hostile.deployment("warned")["spec"], "foo": 1}}))
    assert resp.status == 201
    assert any('unknown field \\"spec.foo\\"' in w or 'unknown field "spec.foo"' in w
               for w in resp.warnings()), resp.warnings()
    assert "foo" not in resp.json()["spec"]
    ignored = c.request("PATCH", hostile.DEPLOYS + "/warned?fieldValidation=Ignore",
                        hostile.dumps({"spec": {"bar": 1}}), hostile.MERGE)
    assert ignored.status == 200 and ignored.warnings() == []
    assert "bar" not in ignored.json()["spec"]
    strict = c.request("PATCH", hostile.DEPLOYS + "/warned?fieldValidation=Strict",
                       hostile.dumps({"spec": {"bar": 1}}), hostile.MERGE)
    assert strict.status == 400
    assert 'strict decoding error: unknown field "spec.bar"' in strict.message()


def test_unexpected_failure_is_a_generic_500() -> None:
    import asyncio

    from aiohttp import web
    from aiohttp.test_utils import make_mocked_request

    from kubelite.apiserver import failures

    async def broken(_: web.Request) -> web.StreamResponse:
        raise KeyError("secret-internal-detail")

    resp = asyncio.run(failures.status_middleware(make_mocked_request("GET", "/x"), broken))
    assert isinstance(resp, web.Response) and resp.status == 500
    assert resp.body is not None
    text = bytes(resp.body).decode()  # type: ignore[arg-type]
    assert "Internal error occurred" in text and "secret-internal-detail" not in text
    assert "KeyError" not in text
