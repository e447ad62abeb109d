"""The API server's ``/metrics``: a real Prometheus parse whose counters follow the requests."""

from __future__ import annotations

import logging

import orjson
import pytest

from kubelite.api import scheme
from kubelite.logs import V
from kubelite.testing.inprocess import InProcessAPI, in_process_api
from kubelite.testing.prom import Scrape
from kubelite.testing.waiting import eventually

PODS = scheme.lookup("", "v1", "pods")
assert PODS is not None


def _pod(name: str) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}


async def _scrape(api: InProcessAPI) -> Scrape:
    async with api.http.get("/metrics") as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return Scrape(await r.text())


POST_PODS = {"verb": "POST", "resource": "pods", "code": "201", "group": "",
             "version": "v1", "scope": "resource", "component": "apiserver",
             "subresource": "", "dry_run": ""}


async def test_n_creates_raise_the_post_counter_by_exactly_n() -> None:
    async with in_process_api() as api:
        before = (await _scrape(api)).value("apiserver_request_total", **POST_PODS)
        for i in range(5):
            async with api.http.post("/api/v1/namespaces/default/pods",
                                     json=_pod(f"p{i}")) as r:
                assert r.status == 201
        after = await _scrape(api)
        assert after.value("apiserver_request_total", **POST_PODS) - before == 5
        assert after.value("apiserver_request_duration_seconds_count", verb="POST",
                           resource="pods") == 5
        assert after.value("apiserver_storage_objects", resource="pods") == 5
        assert after.value("etcd_request_duration_seconds_count", operation="create",
                           type="/registry/core/pods/") == 5


APPLY_BODY = orjson.dumps({"apiVersion": "v1", "kind": "Pod",
                           "metadata": {"name": "a", "labels": {"x": "y"}}})
# method, path, query, headers, body, expected status
REQUESTS: list[tuple[str, str, dict[str, str], dict[str, str], bytes | None, int]] = [
    ("POST", "/api/v1/namespaces/default/pods", {"dryRun": "All"}, {},
     orjson.dumps(_pod("a")), 201),
    ("POST", "/api/v1/namespaces/default/pods", {}, {}, orjson.dumps(_pod("a")), 201),
    ("GET", "/api/v1/namespaces/default/pods", {}, {}, None, 200),
    ("GET", "/api/v1/pods", {}, {}, None, 200),
    ("GET", "/api/v1/namespaces/default/pods/a", {}, {}, None, 200),
    ("GET", "/api/v1/namespaces/default/pods/missing", {}, {}, None, 404),
    ("PATCH", "/api/v1/namespaces/default/pods/a", {"fieldManager": "t"},
     {"Content-Type": "application/apply-patch+yaml"}, APPLY_BODY, 200),
    ("DELETE", "/api/v1/namespaces/default/pods", {}, {}, None, 200),
    ("GET", "/version/", {}, {}, None, 200),
    ("GET", "/livez", {}, {}, None, 200),
]


async def test_verbs_scopes_and_codes_are_reported_as_kube_reports_them() -> None:
    async with in_process_api() as api:
        for method, path, query, headers, body, status in REQUESTS:
            headers = {"Content-Type": "application/json", **headers} if body else headers
            async with api.http.request(method, path, params=query, headers=headers,
                                        data=body) as r:
                assert r.status == status, (method, path, await r.text())
        m = await _scrape(api)
        total = "apiserver_request_total"
        assert m.value(total, verb="POST", resource="pods", dry_run="All", code="201") == 1
        assert m.value(total, verb="LIST", resource="pods", scope="namespace") == 1
        assert m.value(total, verb="LIST", resource="pods", scope="cluster") == 1
        assert m.value(total, verb="GET", resource="pods", scope="resource", code="200") == 1
        assert m.value(total, verb="GET", resource="pods", code="404") == 1
        assert m.value(total, verb="APPLY", resource="pods", code="200") == 1
        assert m.value(total, verb="DELETE", resource="pods", scope="namespace") == 1
        assert m.value(total, verb="GET", subresource="/version", resource="") == 1
        assert m.value(total, verb="GET", subresource="/livez", component="") == 1


async def test_watches_are_long_running_and_their_events_counted() -> None:
    async with in_process_api() as api:
        async with api.http.post("/api/v1/namespaces/default/pods", json=_pod("w")) as r:
            assert r.status == 201
        async with api.http.get("/api/v1/namespaces/default/pods",
                                params={"watch": "true"}) as watch:
            line = await watch.content.readline()
            assert orjson.loads(line)["type"] == "ADDED"
            m = await _scrape(api)
            assert m.value("apiserver_longrunning_requests", verb="WATCH",
                           resource="pods", scope="namespace") == 1
            assert m.value("apiserver_watch_events_total", group="", version="v1",
                           kind="Pod") == 1
            # a scrape is a read in flight; the open watch is not counted there
            assert m.value("apiserver_current_inflight_requests",
                           request_kind="readOnly") == 1
            assert m.value("apiserver_current_inflight_requests",
                           request_kind="mutating") == 0
        # the server learns of the closed connection at its next write
        async with api.http.post("/api/v1/namespaces/default/pods", json=_pod("v")) as r:
            assert r.status == 201

        async def closed() -> bool:
            m = await _scrape(api)
            return m.value("apiserver_longrunning_requests", verb="WATCH") == 0 and \
                m.value("apiserver_request_total", verb="WATCH", resource="pods") == 1
        await eventually(closed)


async def test_clients_runtime_and_process_series_are_there() -> None:
    async with in_process_api() as api:
        client = api.client()
        for i in range(3):
            await client.create(PODS, _pod(f"c{i}"), "default")
        m = await _scrape(api)
        host = api.url.removeprefix("http://")
        assert m.value("rest_client_requests_total", code="201", host=host,
                       method="POST") == 3
        assert m.value("rest_client_request_duration_seconds_count", verb="POST") == 3
        assert m.value("process_resident_memory_bytes") > 0
        assert m.has("process_cpu_seconds_total")
        assert m.has("python_gc_collections_total")
        assert m.has("python_gc_duration_seconds_count")


async def test_two_servers_in_one_process_do_not_mix() -> None:
    async with in_process_api() as one, in_process_api() as two:
        for i in range(2):
            async with one.http.post("/api/v1/namespaces/default/pods",
                                     json=_pod(f"x{i}")) as r:
                assert r.status == 201
        assert (await _scrape(one)).value("apiserver_request_total", **POST_PODS) == 2
        assert (await _scrape(two)).value("apiserver_request_total", **POST_PODS) == 0


async def test_metrics_need_credentials() -> None:
    async with in_process_api() as api:
        async with api.http.get("/metrics", headers={"Authorization": ""}) as r:
            assert r.status == 401


async def test_version_answers_with_or_without_the_trailing_slash() -> None:
    async with in_process_api() as api:
        async with api.http.get("/version") as r:
            plain = await r.json()
        async with api.http.get("/version/") as r:
            assert r.status == 200
            assert await r.json() == plain


async def test_health_paths_and_their_checks_as_kube_apiserver() -> None:
    async with in_process_api() as api:
        h = api.http
        async with h.get("/readyz", params={"verbose": ""}) as r:
            assert r.status == 200
            assert await r.text() == ("[+]ping ok\n[+]log ok\n[+]etcd ok\n"
                                      "[+]etcd-readiness ok\n[+]shutdown ok\n"
                                      "readyz check passed\n")
        async with h.get("/livez", params={"verbose": "", "exclude": ["etcd", "nope"]}) as r:
            assert await r.text() == (
                "[+]ping ok\n[+]log ok\n[+]etcd excluded: ok\n"
                'warn: some health checks cannot be excluded: no matches for "nope"\n'
                "livez check passed\n")
        for path in ("/livez/ping", "/readyz/etcd", "/healthz/log", "/readyz/shutdown"):
            async with h.get(path, headers={"Authorization": ""}) as r:
                assert (r.status, await r.text()) == (200, "ok"), path
        for path in ("/livez/nosuch", "/healthz/", "/livez/"):  # kube routes exact names
            async with h.get(path) as r:
                assert r.status == 404, path
        api.server.stopping.set()
        async with h.get("/readyz") as r:
            assert r.status == 500
            assert await r.text() == ("[+]ping ok\n[+]log ok\n[+]etcd ok\n"
                                      "[+]etcd-readiness ok\n"
                                      "[-]shutdown failed: reason withheld\n"
                                      "readyz check failed\n")
        async with h.get("/readyz/shutdown") as r:
            assert r.status == 500
            assert await r.text() == "internal server error: process is shutting down\n"
        async with h.get("/livez") as r:
            assert (r.status, await r.text()) == (200, "ok")


async def test_requests_are_logged_at_verbosity_3(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(V(3), logger="kubelite.apiserver.httplog")
    async with in_process_api() as api:
        async with api.http.get("/api/v1/namespaces/default/pods",
                                headers={"User-Agent": "kubectl/v1.32.0"}) as r:
            assert r.status == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "kubelite.apiserver.httplog"]
    assert any(line.startswith('"HTTP" verb="LIST" URI="/api/v1/namespaces/default/pods"')
               and 'userAgent="kubectl/v1.32.0"' in line and line.endswith("resp=200")
               for line in lines), lines


async def test_no_request_lines_at_the_default_verbosity(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with in_process_api() as api:
        async with api.http.get("/api/v1/pods") as r:
            assert r.status == 200
    assert not [r for r in caplog.records if r.name == "kubelite.apiserver.httplog"]
