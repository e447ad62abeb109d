"""The controllers' pure functions: hash, rolling-update arithmetic, deletion ranking,
ReplicaSet and DaemonSet plans, Deployment status."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kubelite.controllers import rollout as ro
from kubelite.controllers.daemonset import plan as ds_plan
from kubelite.controllers.deployment_status import rollout_status
from kubelite.controllers.hashing import compute_hash, fnv32a, safe_encode
from kubelite.controllers.nodes import should_run
from kubelite.controllers.podcontrol import slow_start_batches
from kubelite.controllers.ranking import deletion_order
from kubelite.controllers.replicaset import plan as rs_plan

JSON = dict[str, Any]
NOW = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)


def ts(seconds_ago: float) -> str:
    return (NOW - dt.timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- hash ------------------------------------------------------------------------------

def test_fnv32a_known_vectors() -> None:
    assert fnv32a(b"") == 0x811C9DC5
    assert fnv32a(b"a") == 0xE40C292C
    assert fnv32a(b"foobar") == 0xBF9CF968


def test_safe_encode_maps_digits_to_the_upstream_alphabet() -> None:
    assert safe_encode("0123456789") == "456789bcdf"


def test_compute_hash_is_stable_and_sensitive() -> None:
    t1 = {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"image": "a"}]}}
    t2 = {"spec": {"containers": [{"image": "a"}]}, "metadata": {"labels": {"app": "x"}}}
    h = compute_hash(t1)
    assert h == compute_hash(t2)
    assert set(h) <= set("456789bcdf")
    assert compute_hash(t1, 1) != h
    assert compute_hash({**t1, "spec": {"containers": [{"image": "b"}]}}) != h


# -- rolling-update arithmetic -----------------------------------------------------------

@pytest.mark.parametrize(("surge", "unavailable", "desired", "want"), [
    ("25%", "25%", 10, (3, 2)),
    ("25%", "25%", 1, (1, 0)),
    ("25%", "25%", 4, (1, 1)),
    (0, 0, 3, (0, 1)),
    ("0%", "0%", 3, (0, 1)),
    (1, "10%", 4, (1, 0)),
    ("50%", "50%", 3, (2, 1)),
    (2, 1, 0, (2, 1)),
])
def test_resolve_fenceposts(surge: Any, unavailable: Any, desired: int,
                            want: tuple[int, int]) -> None:
    assert ro.resolve_fenceposts(surge, unavailable, desired) == want


def test_bad_int_or_percent() -> None:
    with pytest.raises(ro.BadIntOrPercent):
        ro.scaled_value("abc%", 10, True)


def deploy(replicas: int, surge: Any = "25%", unavailable: Any = "25%", **spec: Any) -> JSON:
    return {"metadata": {"name": "d", "generation": 1},
            "spec": {"replicas": replicas, "strategy": {"type": "RollingUpdate",
                     "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}},
                     "progressDeadlineSeconds": 600, **spec}, "status": {}}


def rs(name: str, replicas: int, available: int | None = None, created: float = 0,
       revision: int = 1, max_replicas: int | None = None) -> JSON:
    anns = {ro.REVISION: str(revision)}
    if max_replicas is not None:
        anns[ro.MAX_REPLICAS] = str(max_replicas)
    return {"metadata": {"name": name, "creationTimestamp": ts(created), "annotations": anns},
            "spec": {"replicas": replicas},
            "status": {"replicas": replicas, "readyReplicas": replicas if available is None
                       else available,
                       "availableReplicas": replicas if available is None else available}}


def test_new_rs_grows_within_surge() -> None:
    d = deploy(3, 1, 0)
    old, new = rs("old", 3, created=60), rs("new", 0)
    assert ro.new_rs_replicas(d, [old, new], new) == 1
    assert ro.new_rs_replicas(d, [rs("old", 3), rs("new", 1)], rs("new", 1)) == 1
    assert ro.new_rs_replicas(deploy(10), [rs("old", 10), rs("n", 0)], rs("n", 0)) == 3


def test_old_scale_down_keeps_minimum_available() -> None:
    d = deploy(3, 1, 0)
    # the new pod is not available yet: nothing may go
    assert ro.plan_old_scale_down(d, rs("new", 1, available=0), [rs("old", 3, created=60)]) \
        == {}
    # the new pod is available: one old pod may go
    assert ro.plan_old_scale_down(d, rs("new", 1), [rs("old", 3, created=60)]) == {"old": 2}
    # unavailable old pods are cleaned up first, oldest ReplicaSet first
    d2 = deploy(4, 0, 1)
    olds = [rs("a", 2, available=1, created=90), rs("b", 2, created=60)]
    assert ro.plan_old_scale_down(d2, rs("new", 0), olds) == {"a": 1}


def test_proportional_scale_keeps_shares() -> None:
    d = deploy(20)
    a = rs("a", 6, created=60, max_replicas=13)
    b = rs("b", 4, created=30, max_replicas=13)
    sizes = ro.proportional_scale(d, [a, b])
    assert sizes == {"a": 17, "b": 8}
    assert sum(sizes.values()) == 20 + 5


def test_max_unavailable_is_zero_for_recreate() -> None:
    d = deploy(3)
    d["spec"]["strategy"] = {"type": "Recreate"}
    assert ro.max_unavailable(d) == 0
    assert ro.max_surge(d) == 0


# -- ranking ---------------------------------------------------------------------------

def pod(name: str, node: str = "n1", phase: str = "Running", ready: bool = True,
        ready_for: float = 100, restarts: int = 0, created: float = 200) -> JSON:
    conds = [{"type": "Ready", "status": "True" if ready else "False",
              "lastTransitionTime": ts(ready_for)}]
    spec: JSON = {"containers": [{"name": "c", "image": "i"}]}
    if node:
        spec["nodeName"] = node
    return {"metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}",
                         "labels": {"app": "x"}, "creationTimestamp": ts(created)},
            "spec": spec,
            "status": {"phase": phase, "conditions": conds,
                       "containerStatuses": [{"name": "c", "restartCount": restarts}]}}


def test_deletion_order_prefers_cheapest_pods() -> None:
    pods = [
        pod("ready-old", ready_for=500, created=600),
        pod("unscheduled", node="", phase="Pending", ready=False),
        pod("pending", phase="Pending", ready=False),
        pod("not-ready", ready=False),
        pod("ready-new", ready_for=10, created=600),
    ]
    names = [p["metadata"]["name"] for p in deletion_order(pods)]
    assert names == ["unscheduled", "pending", "not-ready", "ready-new", "ready-old"]


def test_deletion_order_restarts_then_age() -> None:
    pods = [pod("old", created=500, ready_for=50), pod("young", created=100, ready_for=50),
            pod("crashy", restarts=5, created=500, ready_for=50)]
    names = [p["metadata"]["name"] for p in deletion_order(pods)]
    assert names == ["crashy", "young", "old"]


def test_deletion_order_crowded_nodes_first() -> None:
    pods = [pod("alone", node="n2"), pod("a", node="n1"), pod("b", node="n1")]
    names = [p["metadata"]["name"] for p in deletion_order(pods)]
    assert names[-1] == "alone"


# -- ReplicaSet plan -------------------------------------------------------------------

def replicaset(replicas: int, min_ready: int = 0) -> JSON:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": "rs", "namespace": "default", "uid": "rs-uid",
                         "generation": 2},
            "spec": {"replicas": replicas, "minReadySeconds": min_ready,
                     "selector": {"matchLabels": {"app": "x"}},
                     "template": {"metadata": {"labels": {"app": "x", "tier": "web"}}}}}


def owned(p: JSON) -> JSON:
    p["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                         "name": "rs", "uid": "rs-uid", "controller": True}]
    return p


def test_rs_plan_creates_adopts_and_releases() -> None:
    stray = pod("stray")
    foreign = pod("foreign")
    foreign["metadata"]["labels"] = {"app": "other"}
    owned_foreign = owned(pod("mine-relabelled"))
    owned_foreign["metadata"]["labels"] = {"app": "other"}
    p = rs_plan(replicaset(3), [stray, foreign, owned_foreign, owned(pod("mine"))], NOW)
    assert [x["metadata"]["name"] for x in p.adopt] == ["stray"]
    assert [x["metadata"]["name"] for x in p.release] == ["mine-relabelled"]
    assert p.create == 1
    assert p.status["replicas"] == 2
    assert p.status["observedGeneration"] == 2
    assert "fullyLabeledReplicas" not in p.status  # the pods lack tier=web


def test_rs_plan_deletes_cheapest_and_ignores_terminating() -> None:
    terminating = owned(pod("going"))
    terminating["metadata"]["deletionTimestamp"] = ts(0)
    pods = [owned(pod("good")), owned(pod("bad", ready=False)), terminating]
    p = rs_plan(replicaset(1), pods, NOW)
    assert [x["metadata"]["name"] for x in p.delete] == ["bad"]
    assert p.create == 0


def test_rs_status_counts_available_after_min_ready_seconds() -> None:
    pods = [owned(pod("a", ready_for=30)), owned(pod("b", ready_for=5))]
    p = rs_plan(replicaset(2, min_ready=10), pods, NOW)
    assert (p.status["readyReplicas"], p.status["availableReplicas"]) == (2, 1)
    assert p.requeue_after is not None and 4 < p.requeue_after < 6


def test_slow_start_batches() -> None:
    assert slow_start_batches(10) == [1, 2, 4, 3]
    assert slow_start_batches(1) == [1]
    assert slow_start_batches(0) == []


# -- Deployment status -----------------------------------------------------------------

def test_rollout_status_complete_and_progressing() -> None:
    d = deploy(2)
    new = rs("d-abc", 2)
    st = rollout_status(d, [new], new, NOW)
    conds = {c["type"]: c for c in st["conditions"]}
    assert conds["Progressing"]["reason"] == "NewReplicaSetAvailable"
    assert conds["Progressing"]["message"] == 'ReplicaSet "d-abc" has successfully progressed.'
    assert conds["Available"]["reason"] == "MinimumReplicasAvailable"
    assert (st["replicas"], st["updatedReplicas"], st["availableReplicas"]) == (2, 2, 2)
    assert "unavailableReplicas" not in st

    d = deploy(2, 0, 0)  # maxUnavailable 1 after the fencepost rule
    old, new = rs("d-old", 2, created=60), rs("d-new", 1, available=0)
    st = rollout_status(d, [old, new], new, NOW)
    conds = {c["type"]: c for c in st["conditions"]}
    assert conds["Progressing"]["reason"] == "ReplicaSetUpdated"
    assert st["unavailableReplicas"] == 1


def test_rollout_status_times_out() -> None:
    d = deploy(1)
    d["spec"]["progressDeadlineSeconds"] = 10
    d["status"] = {"replicas": 1, "updatedReplicas": 1, "conditions": [{
        "type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated",
        "lastUpdateTime": ts(60), "lastTransitionTime": ts(60), "message": "x"}]}
    new = rs("d-new", 1, available=0)
    new["status"]["replicas"] = 1
    st = rollout_status(d, [new], new, NOW)
    cond = next(c for c in st["conditions"] if c["type"] == "Progressing")
    assert (cond["status"], cond["reason"]) == ("False", "ProgressDeadlineExceeded")
    assert cond["message"] == 'ReplicaSet "d-new" has timed out progressing.'
    avail = next(c for c in st["conditions"] if c["type"] == "Available")
    assert avail["reason"] == "MinimumReplicasUnavailable"


# -- DaemonSet -------------------------------------------------------------------------

def node(name: str, labels: dict[str, str] | None = None,
         taints: list[JSON] | None = None) -> JSON:
    return {"metadata": {"name": name, "labels": labels or {}},
            "spec": {"taints": taints or []},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}}


def test_should_run_taints_and_selectors() -> None:
    spec: JSON = {"containers": []}
    assert should_run(spec, node("a"))
    assert should_run(spec, node("a", taints=[{"key": "node.kubernetes.io/unschedulable",
                                               "effect": "NoSchedule"}]))
    assert not should_run(spec, node("a", taints=[{"key": "dedicated", "value": "db",
                                                   "effect": "NoSchedule"}]))
    assert should_run({**spec, "tolerations": [{"key": "dedicated", "operator": "Exists"}]},
                      node("a", taints=[{"key": "dedicated", "effect": "NoSchedule"}]))
    assert not should_run({**spec, "nodeSelector": {"disk": "ssd"}}, node("a"))
    aff = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [
            {"key": "zone", "operator": "In", "values": ["z1"]}]}]}}}
    assert should_run({**spec, "affinity": aff}, node("a", {"zone": "z1"}))
    assert not should_run({**spec, "affinity": aff}, node("a", {"zone": "z2"}))


def daemonset() -> JSON:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "ds", "namespace": "default", "uid": "ds-uid",
                         "generation": 1},
            "spec": {"selector": {"matchLabels": {"app": "x"}},
                     "template": {"metadata": {"labels": {"app": "x"}},
                                  "spec": {"containers": [{"name": "c", "image": "i"}],
                                           "nodeSelector": {"role": "worker"}}},
                     "updateStrategy": {"type": "RollingUpdate",
                                        "rollingUpdate": {"maxUnavailable": 1}}}}


def ds_pod(name: str, node_name: str, pod_hash: str, **kw: Any) -> JSON:
    p = pod(name, node=node_name, **kw)
    p["metadata"]["labels"]["controller-revision-hash"] = pod_hash
    p["metadata"]["ownerReferences"] = [{"kind": "DaemonSet", "name": "ds", "uid": "ds-uid",
                                         "controller": True}]
    return p


def test_ds_plan_creates_deletes_and_counts() -> None:
    from kubelite.controllers.daemonset import template_hash
    ds = daemonset()
    h = template_hash(ds)
    nodes = [node("w1", {"role": "worker"}), node("w2", {"role": "worker"}), node("m1")]
    pods = [ds_pod("on-w1", "w1", h), ds_pod("on-m1", "m1", h)]
    p = ds_plan(ds, nodes, pods, NOW)
    assert p.create_on == ["w2"]
    assert [x["metadata"]["name"] for x in p.delete] == ["on-m1"]
    st = p.status
    assert (st["desiredNumberScheduled"], st["currentNumberScheduled"],
            st["numberMisscheduled"], st["numberReady"], st["updatedNumberScheduled"],
            st["numberUnavailable"]) == (2, 1, 1, 1, 1, 1)


def test_ds_rolling_update_respects_max_unavailable() -> None:
    ds = daemonset()
    nodes = [node(f"w{i}", {"role": "worker"}) for i in range(3)]
    pods = [ds_pod(f"old{i}", f"w{i}", "oldhash") for i in range(3)]
    p = ds_plan(ds, nodes, pods, NOW)
    assert len(p.delete) == 1
    assert "updatedNumberScheduled" not in p.status
    # an unavailable old pod is replaced without spending the budget
    pods[2] = ds_pod("old2", "w2", "oldhash", ready=False)
    p = ds_plan(ds, nodes, pods, NOW)
    assert {x["metadata"]["name"] for x in p.delete} == {"old2"}
