"""PodDisruptionBudgets and evictions in process (API server, controller manager,
scheduler, a kubelet on the fake runtime): the budget's status, and ``pods/eviction``
refused with kube's 429 when it would break the budget."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from node_cluster import node_cluster

from kubelite.api.errors import StatusError
from kubelite.client.resources import PODS
from kubelite.client.rest import ApiClient
from kubelite.controllers.resources import DEPLOYMENTS, PODDISRUPTIONBUDGETS
from kubelite.testing.waiting import eventually

JSON = dict[str, Any]
VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget."


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[ApiClient]:
    async with node_cluster(tmp_path) as c:
        yield c.client


def deployment(replicas: int) -> JSON:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "app"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "a"}},
                     "template": {"metadata": {"labels": {"app": "a"}},
                                  "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}


PDB = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "pdb"},
       "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "a"}}}}


async def budget(c: ApiClient, healthy: int, allowed: int) -> JSON | None:
    pdb = await c.get(PODDISRUPTIONBUDGETS, "pdb", "default")
    st = pdb.get("status") or {}
    ok = (st.get("currentHealthy"), st.get("disruptionsAllowed")) == (healthy, allowed)
    return pdb if ok else None


async def running(c: ApiClient) -> list[str]:
    return sorted(p["metadata"]["name"] for p in (await c.list(PODS, "default"))["items"]
                  if not p["metadata"].get("deletionTimestamp"))


async def evict(c: ApiClient, name: str) -> JSON:
    return await c.create_subresource(PODS, name, "eviction", {
        "apiVersion": "policy/v1", "kind": "Eviction",
        "metadata": {"name": name, "namespace": "default"}}, "default")


async def test_eviction_honours_the_budget(client: ApiClient) -> None:
    c = client
    await c.create(DEPLOYMENTS, deployment(1), "default")
    await c.create(PODDISRUPTIONBUDGETS, PDB, "default")
    pdb = await eventually(lambda: budget(c, 1, 0), timeout=15)
    st = pdb["status"]
    assert (st["desiredHealthy"], st["expectedPods"], st["observedGeneration"]) == (1, 1, 1)
    assert [(x["type"], x["status"], x["reason"]) for x in st["conditions"]] == [
        ("DisruptionAllowed", "False", "InsufficientPods")]
    [only] = await running(c)
    with pytest.raises(StatusError) as err:
        await evict(c, only)
    assert (err.value.code, err.value.message) == (429, VIOLATION)
    assert "The disruption budget pdb needs 1 healthy pods and has 1 currently" in str(
        err.value.body())
    assert await running(c) == [only]

    # two replicas: one eviction at a time
    await c.patch(DEPLOYMENTS, "app", {"spec": {"replicas": 2}}, "default")
    await eventually(lambda: budget(c, 2, 1), timeout=15)
    first, second = await running(c)
    out = await evict(c, first)
    assert (out["status"], out["code"]) == ("Success", 201)
    with pytest.raises(StatusError) as err:
        await evict(c, second)
    assert err.value.code == 429
    # the Deployment replaces the evicted pod; the budget allows one again
    await eventually(lambda: budget(c, 2, 1), timeout=15)
    assert first not in await running(c)
