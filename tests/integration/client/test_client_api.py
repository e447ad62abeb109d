"""The REST client, informer and event recorder against an in-process API server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kubelite.api.errors import StatusError
from kubelite.client.events import EventRecorder
from kubelite.client.informer import Informer
from kubelite.client.resources import CONFIGMAPS, EVENTS, NODES, PODS
from kubelite.client.rest import ApiClient
from kubelite.testing.inprocess import InProcessAPI
from kubelite.testing.waiting import eventually


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[InProcessAPI]:
    async with InProcessAPI(tmp_path) as a:
        yield a


def _cm(name: str, **data: str) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "default"}, "data": dict(data)}


def _pod(name: str, node: str = "") -> dict[str, object]:
    spec: dict[str, object] = {"containers": [{"name": "c", "image": "busybox"}]}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default"}, "spec": spec}


async def test_crud_and_errors(api: InProcessAPI) -> None:
    c = api.client()
    created = await c.create(CONFIGMAPS, _cm("a", k="v"))
    assert created["metadata"]["uid"]
    with pytest.raises(StatusError) as err:
        await c.create(CONFIGMAPS, _cm("a"))
    assert (err.value.code, err.value.reason) == (409, "AlreadyExists")
    assert err.value.message == 'configmaps "a" already exists'
    got = await c.get(CONFIGMAPS, "a", "default")
    got["data"]["k"] = "w"
    updated = await c.update(CONFIGMAPS, got)
    assert updated["data"] == {"k": "w"}
    stale = dict(got)
    with pytest.raises(StatusError) as err:
        await c.update(CONFIGMAPS, stale)
    assert err.value.code == 409 and err.value.reason == "Conflict"
    patched = await c.patch(CONFIGMAPS, "a", {"data": {"x": "1"}}, "default")
    assert patched["data"] == {"k": "w", "x": "1"}
    patched = await c.patch(CONFIGMAPS, "a", [{"op": "remove", "path": "/data/k"}], "default",
                            patch_type="json")
    assert patched["data"] == {"x": "1"}
    with pytest.raises(StatusError) as err:
        await c.delete(CONFIGMAPS, "a", "default", uid="not-the-uid")
    assert err.value.code == 409 and "Precondition failed" in err.value.message
    await c.delete(CONFIGMAPS, "a", "default", uid=created["metadata"]["uid"])
    with pytest.raises(StatusError) as err:
        await c.get(CONFIGMAPS, "a", "default")
    assert err.value.code == 404 and err.value.reason == "NotFound"


async def test_binding_status_and_graceful_delete(api: InProcessAPI) -> None:
    c = api.client()
    await c.create(NODES, {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}})
    await c.create(PODS, _pod("p"))
    await c.create_subresource(PODS, "p", "binding", {
        "apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p", "namespace": "default"},
        "target": {"apiVersion": "v1", "kind": "Node", "name": "n1"}}, "default")
    pod = await c.get(PODS, "p", "default")
    assert pod["spec"]["nodeName"] == "n1"
    pod["status"]["phase"] = "Running"
    await c.update_status(PODS, pod)
    pod = await c.get(PODS, "p", "default")
    assert pod["status"]["phase"] == "Running"
    marked = await c.delete(PODS, "p", "default")
    assert marked["metadata"]["deletionTimestamp"]
    await c.delete(PODS, "p", "default", grace_period_seconds=0, uid=pod["metadata"]["uid"])
    with pytest.raises(StatusError):
        await c.get(PODS, "p", "default")


async def test_informer_lists_watches_and_field_selects(api: InProcessAPI) -> None:
    c = api.client()
    await c.create(PODS, _pod("mine", "n1"))
    await c.create(PODS, _pod("other", "n2"))
    inf = Informer(c, PODS, field_selector="spec.nodeName=n1")
    seen: list[tuple[str, str]] = []
    inf.add_handlers(on_add=lambda o: seen.append(("add", o["metadata"]["name"])),
                     on_update=lambda a, b: seen.append(("update", b["metadata"]["name"])),
                     on_delete=lambda o: seen.append(("delete", o["metadata"]["name"])))
    inf.start()
    try:
        await inf.wait_synced(5)
        assert [k for k in inf.cache] == ["default/mine"]
        await c.create(PODS, _pod("late", "n1"))
        await c.patch(PODS, "mine", {"metadata": {"labels": {"a": "b"}}}, "default")
        await c.delete(PODS, "late", "default", grace_period_seconds=0)
        async def deleted_seen() -> bool:
            return ("delete", "late") in seen

        await eventually(deleted_seen, 2.0)
        assert seen == [("add", "mine"), ("add", "late"), ("update", "mine"),
                        ("delete", "late")]
        assert inf.get("default/mine")["metadata"]["labels"] == {"a": "b"}  # type: ignore[index]
    finally:
        await inf.stop()


async def test_informer_relists_after_restart_of_watch(api: InProcessAPI) -> None:
    """A watch from a compacted revision gets 410: the informer re-lists and converges."""
    c = api.client()
    inf = Informer(c, CONFIGMAPS, "default", retry_delay=0.05)
    inf.start()
    try:
        await inf.wait_synced(5)
        inf.resource_version = "1"  # pretend we are far behind
        await api.store.compact(await _current_rev(c))  # type: ignore[attr-defined]
        await c.create(CONFIGMAPS, _cm("x"))
        async def converged() -> bool:
            return inf.get("default/x") is not None

        await eventually(converged, 2.0)
        assert inf.get("default/x") is not None
    finally:
        await inf.stop()


async def _current_rev(c: ApiClient) -> int:
    lst = await c.list(CONFIGMAPS)
    return int(lst["metadata"]["resourceVersion"])


async def test_events_aggregate_identical(api: InProcessAPI) -> None:
    c = api.client()
    pod = await c.create(PODS, _pod("p", "n1"))
    rec = EventRecorder(c, "kubelet", "n1")
    rec.event(pod, "Normal", "Pulling", 'Pulling image "busybox"', "spec.containers{c}")
    rec.event(pod, "Warning", "BackOff", "Back-off restarting failed container c")
    rec.event(pod, "Warning", "BackOff", "Back-off restarting failed container c")
    await rec.flush()
    await rec.close()
    events = (await c.list(EVENTS, "default"))["items"]
    by_reason = {e["reason"]: e for e in events}
    assert len(events) == 2
    pulling = by_reason["Pulling"]
    assert pulling["involvedObject"]["fieldPath"] == "spec.containers{c}"
    assert pulling["involvedObject"]["uid"] == pod["metadata"]["uid"]
    assert pulling["source"] == {"component": "kubelet", "host": "n1"}
    assert pulling["metadata"]["name"].startswith("p.")
    assert by_reason["BackOff"]["count"] == 2
    assert by_reason["BackOff"]["type"] == "Warning"
