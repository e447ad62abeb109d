"""Slow-start deletes that stop at the first failure; which objects controllers skip."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kubelite.api.errors import StatusError
from kubelite.controllers.podcontrol import delete_pods, slow_start_batches
from kubelite.controllers.wellformed import problem

JSON = dict[str, Any]


class FakeClient:
    """Deletes succeed, except those of pods named in ``refuse``; records batches."""

    def __init__(self, refuse: set[str]) -> None:
        self.refuse = refuse
        self.calls: list[str] = []
        self.in_flight = 0
        self.peak = 0

    async def delete(self, res: object, name: str, ns: str | None, uid: str = "") -> JSON:
        self.calls.append(name)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        await asyncio.sleep(0)
        self.in_flight -= 1
        if name in self.refuse:
            raise StatusError(403, "Forbidden", "no")
        return {"metadata": {"resourceVersion": str(len(self.calls))}}


class Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []

    def event(self, obj: JSON, type_: str, reason: str, message: str) -> None:
        self.events.append(reason)


def pods(n: int) -> list[JSON]:
    return [{"metadata": {"name": f"p{i}", "namespace": "ns", "uid": f"u{i}"}}
            for i in range(n)]


async def test_deletes_go_in_slow_start_batches() -> None:
    client, rec = FakeClient(set()), Recorder()
    rv = await delete_pods(client, rec, {"metadata": {"name": "rs"}}, pods(100))  # type: ignore[arg-type]
    assert len(client.calls) == 100 and rv == 100
    assert client.peak == max(slow_start_batches(100)) == 37  # 1, 2, 4, ... 32, 37
    assert rec.events == ["SuccessfulDelete"] * 100


async def test_deletes_stop_after_the_batch_with_the_first_failure() -> None:
    client, rec = FakeClient({"p5"}), Recorder()  # p5 is in the third batch (p3..p6)
    with pytest.raises(StatusError):
        await delete_pods(client, rec, {"metadata": {"name": "rs"}}, pods(100))  # type: ignore[arg-type]
    assert client.calls == [f"p{i}" for i in range(7)]
    assert rec.events.count("FailedDelete") == 1


@pytest.mark.parametrize(("obj", "why"), [
    ({"metadata": {"name": "a"}}, None),
    ({"metadata": {"name": "a", "labels": {"x": "y"},
                   "ownerReferences": [{"apiVersion": "v1", "kind": "K", "name": "n",
                                        "uid": "u", "controller": True}]},
      "spec": {"replicas": 3}}, None),
    ("text", "the object is not a JSON object"),
    ({"metadata": "x"}, "metadata is not an object"),
    ({"metadata": {"name": 5}}, "metadata.name is not a string"),
    ({"metadata": {"labels": ["a"]}}, "metadata.labels is not a map of strings"),
    ({"metadata": {"labels": {"a": 1}}}, "metadata.labels is not a map of strings"),
    ({"metadata": {"annotations": "a"}}, "metadata.annotations is not a map of strings"),
    ({"metadata": {"finalizers": "f"}}, "metadata.finalizers is not a list of strings"),
    ({"metadata": {"ownerReferences": "abc"}}, "metadata.ownerReferences is not a list"),
    ({"metadata": {"ownerReferences": [5]}}, "metadata.ownerReferences[0] is not an object"),
    ({"metadata": {"ownerReferences": [{"apiVersion": "v1", "kind": "K", "name": "n"}]}},
     "metadata.ownerReferences[0] uid is not a string"),
    ({"metadata": {"ownerReferences": [{"apiVersion": "v1", "kind": "K", "name": "n",
                                        "uid": "u", "controller": "yes"}]}},
     "metadata.ownerReferences[0] controller is not a boolean"),
    ({"metadata": {}, "status": "Running"}, "status is not an object"),
    ({"metadata": {}, "spec": {"replicas": 2**40}},
     "spec.replicas is not an int32 of at least 0"),
    ({"metadata": {}, "spec": {"replicas": True}},
     "spec.replicas is not an int32 of at least 0"),
    ({"metadata": {}, "spec": {"selector": "app=x"}}, "spec.selector is not an object"),
])
def test_problem(obj: object, why: str | None) -> None:
    assert problem(obj) == why
