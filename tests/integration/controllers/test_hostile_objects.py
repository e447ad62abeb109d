"""Malformed objects already in the store (written past the API's decoding) do not stop
the controllers for the other objects of their namespace; each is logged once."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from kubelite.api import scheme
from kubelite.client.resources import PODS
from kubelite.controllers.manager import ControllerManager
from kubelite.controllers.resources import REPLICASETS
from kubelite.testing.inprocess import in_process_api
from kubelite.testing.waiting import eventually

JSON = dict[str, Any]
NS = "default"


def replicaset(name: str, replicas: int) -> JSON:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c", "image": "x"}]}}}}


def raw_pod(name: str, **meta: Any) -> JSON:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": NS, "uid": f"uid-{name}", **meta},
            "spec": {"containers": [{"name": "c", "image": "x"}]}}


async def test_replicaset_controller_survives_malformed_pods_and_replicasets(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "kubelite.controllers.wellformed")
    pods = scheme.lookup("", "v1", "pods")
    rses = scheme.lookup("apps", "v1", "replicasets")
    assert pods is not None and rses is not None
    async with in_process_api() as api:
        await api.server.bootstrap()
        # straight into the store, as an older release or another writer could have
        for name, meta in (("labels-list", {"labels": ["a"]}),
                           ("refs-string", {"ownerReferences": "abc"}),
                           ("ref-not-object", {"ownerReferences": [5]}),
                           ("name-int", {"labels": {"app": "good"}, "generateName": 5})):
            await api.store.create(pods.key(NS, name), raw_pod(name, **meta))
        broken = raw_pod("status-string", labels={"app": "good"})
        broken["status"] = "Running"  # matches the selector; its status breaks any reader
        await api.store.create(pods.key(NS, "status-string"), broken)
        bad_rs = replicaset("bad", 1)
        bad_rs["spec"]["replicas"] = "many"
        bad_rs["metadata"]["uid"] = "uid-bad-rs"
        await api.store.create(rses.key(NS, "bad"), bad_rs)
        client = api.client()
        manager = ControllerManager(api.client())
        await manager.start()
        try:
            await client.create(REPLICASETS, replicaset("good", 3), NS)

            async def three() -> bool:
                items = (await client.list(PODS, NS, label_selector="app=good"))["items"]
                owned = [p for p in items if p["metadata"].get("ownerReferences")]
                return len(owned) == 3
            await eventually(three, timeout=10)
            await client.patch(REPLICASETS, "good", {"spec": {"replicas": 1}}, NS)

            async def one() -> bool:
                items = (await client.list(PODS, NS, label_selector="app=good"))["items"]
                live = [p for p in items if p["metadata"].get("ownerReferences")
                        and not p["metadata"].get("deletionTimestamp")]
                return len(live) == 1
            await eventually(one, timeout=10)
        finally:
            await manager.stop()
    warnings = [r.getMessage() for r in caplog.records]
    for name in ("labels-list", "refs-string", "ref-not-object", "bad", "status-string"):
        mine = [w for w in warnings if f"/{name}:" in w and "replicaset-controller" in w]
        assert len(mine) == 1, (name, warnings)  # logged once, however often synced
