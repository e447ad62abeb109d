"""PriorityClasses over HTTP and the Priority admission plugin: kube's rules and texts."""

from __future__ import annotations

from typing import Any

from kubelite.testing.inprocess import in_process_api

PCS = "/apis/scheduling.k8s.io/v1/priorityclasses"
PODS = "/api/v1/namespaces/default/pods"


def pc(name: str, value: int, **extra: Any) -> dict[str, Any]:
    return {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
            "metadata": {"name": name}, "value": value, **extra}


def pod(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "busybox"}], **spec}}


async def test_classes_and_admission() -> None:
    async with in_process_api() as api:
        async with api.http.get(PCS + "/system-node-critical") as r:
            assert (await r.json())["value"] == 2000001000
        async with api.http.post(PCS, json=pc("batch", 100, globalDefault=True)) as r:
            assert r.status == 201
            assert (await r.json())["preemptionPolicy"] == "PreemptLowerPriority"
        async with api.http.post(PCS, json=pc("other", 5, globalDefault=True)) as r:
            assert r.status == 403
            assert (await r.json())["message"] == (
                'priorityclasses "other" is forbidden: PriorityClass batch is already '
                "marked as default. Only one default can exist")
        async with api.http.post(PCS, json=pc("system-mine", 5)) as r:
            assert r.status == 422
            assert "metadata.name: Forbidden: priority class names with 'system-' prefix " \
                   "are reserved for system use only" in (await r.json())["message"]
        async with api.http.post(PCS, json=pc("huge", 2_000_000_000)) as r:
            assert "value: Forbidden: maximum allowed value of a user defined priority is " \
                   "1000000000" in (await r.json())["message"]
        async with api.http.get(PCS + "/batch") as r:
            stored = await r.json()
        async with api.http.put(PCS + "/batch", json=dict(stored, value=7)) as r:
            assert r.status == 422
            assert "value: Forbidden: may not be changed in an update." in \
                (await r.json())["message"]

        async with api.http.post(PODS, json=pod("plain")) as r:
            spec = (await r.json())["spec"]
        assert (spec["priorityClassName"], spec["priority"]) == ("batch", 100)
        async with api.http.post(PODS, json=pod("crit",
                                                priorityClassName="system-cluster-critical")) as r:
            assert (await r.json())["spec"]["priority"] == 2000000000
        async with api.http.post(PCS, json=pc("polite", 50, preemptionPolicy="Never")) as r:
            assert r.status == 201
        async with api.http.post(PODS, json=pod("p2", priorityClassName="polite")) as r:
            assert (await r.json())["spec"]["preemptionPolicy"] == "Never"
        async with api.http.post(PODS, json=pod("lost", priorityClassName="nope")) as r:
            assert r.status == 403
            assert (await r.json())["message"] == (
                'pods "lost" is forbidden: no PriorityClass with name nope was found')
