"""Server-side apply merges: ownership, pruning, conflicts, force, no-ops."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubelite.api import errors
from kubelite.apiserver.openapi import openapi
from kubelite.apiserver.patch import apply

DEPLOY = openapi.schema_for("apps", "v1", "Deployment")
POD = openapi.schema_for("", "v1", "Pod")
T0, T1, T2 = "2024-01-01T00:00:00Z", "2024-01-01T00:00:01Z", "2024-01-01T00:00:02Z"


def deploy(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": spec}


def pod(*containers: dict[str, Any], **meta: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", **meta},
            "spec": {"containers": list(containers)}}


def run(live: dict[str, Any] | None, config: dict[str, Any], manager: str = "kubectl",
        force: bool = False, now: str = T1, schema: Any = None) -> dict[str, Any]:
    schema = schema or (DEPLOY if config["kind"] == "Deployment" else POD)
    return apply.apply(live, config, manager=manager, force=force, schema=schema,
                       api_version=config["apiVersion"], now=now)


def owners(obj: dict[str, Any]) -> dict[tuple[str, str], Any]:
    return {(e["manager"], e["operation"]): e for e in obj["metadata"].get("managedFields", [])}


@pytest.mark.parametrize(("live", "config", "merged"), [
    # granular maps merge key by key
    (pod({"name": "a"}, labels={"x": "1"}), pod({"name": "a"}, labels={"y": "2"}),
     {"x": "1", "y": "2"}),
    # list-map items merge on their key; live-only items keep their place
    (pod({"name": "a", "image": "1"}, {"name": "b", "image": "2"}),
     pod({"name": "b", "image": "3"}, {"name": "c", "image": "4"}),
     [{"name": "a", "image": "1"}, {"name": "b", "image": "3"}, {"name": "c", "image": "4"}]),
    # atomic lists are replaced
    (pod({"name": "a", "args": ["1", "2"]}), pod({"name": "a", "args": ["3"]}),
     [{"name": "a", "args": ["3"]}]),
])
def test_merge(live: dict[str, Any], config: dict[str, Any], merged: Any) -> None:
    out = apply.merge(live, config, POD)
    got = out["metadata"]["labels"] if isinstance(merged, dict) else out["spec"]["containers"]
    assert got == merged


def test_create_owns_the_configuration() -> None:
    out = run(None, deploy(replicas=2), now=T0)
    (entry,) = out["metadata"]["managedFields"]
    assert entry == {"manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1",
                     "time": T0, "fieldsType": "FieldsV1",
                     "fieldsV1": {"f:spec": {"f:replicas": {}}}}
    assert out["spec"] == {"replicas": 2}


def test_same_configuration_twice_is_a_no_op() -> None:
    first = run(None, deploy(replicas=2), now=T0)
    second = run(first, deploy(replicas=2), now=T2)
    assert second == first


def test_fields_left_out_are_removed_unless_someone_else_owns_them() -> None:
    first = run(None, pod({"name": "a", "image": "1"}, {"name": "b", "image": "2"},
                          labels={"x": "1", "y": "2"}), now=T0)
    shared = run(first, pod({"name": "a", "image": "1"}, labels={"y": "2"}), manager="other")
    dropped = run(shared, pod({"name": "a", "image": "1"}), now=T2)
    assert dropped["metadata"]["labels"] == {"y": "2"}, "y is still owned by other"
    assert [c["name"] for c in dropped["spec"]["containers"]] == ["a"]
    entry = owners(dropped)[("kubectl", "Apply")]
    assert entry["time"] == T2
    assert "f:labels" not in entry["fieldsV1"].get("f:metadata", {})


def test_conflict_with_an_applier() -> None:
    live = run(None, deploy(replicas=2), now=T0)
    with pytest.raises(errors.StatusError) as info:
        run(live, deploy(replicas=3), manager="other")
    status = info.value.status()
    assert status["code"] == 409 and status["reason"] == "Conflict"
    assert status["message"] == ('Apply failed with 1 conflict: conflict with "kubectl": '
                                 ".spec.replicas")
    assert status["details"]["causes"] == [{"reason": "FieldManagerConflict",
                                            "message": 'conflict with "kubectl"',
                                            "field": ".spec.replicas"}]


def test_same_value_is_shared_not_a_conflict() -> None:
    live = run(None, deploy(replicas=2), now=T0)
    out = run(live, deploy(replicas=2), manager="other")
    assert out["spec"]["replicas"] == 2
    both = owners(out)
    assert both[("kubectl", "Apply")]["fieldsV1"] == both[("other", "Apply")]["fieldsV1"]


def test_conflicts_with_updaters_name_the_version_and_list_every_field() -> None:
    live = deploy(replicas=1, paused=False)
    live["metadata"]["managedFields"] = [{
        "manager": "mgr", "operation": "Update", "apiVersion": "apps/v1", "time": T0,
        "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:paused": {}, "f:replicas": {}}}}]
    with pytest.raises(errors.StatusError) as info:
        run(live, deploy(replicas=3, paused=True))
    assert info.value.message == (
        'Apply failed with 2 conflicts: conflicts with "mgr" using apps/v1:\n'
        "- .spec.paused\n- .spec.replicas")
    assert [c.field for c in info.value.causes] == [".spec.paused", ".spec.replicas"]
    assert {c.message for c in info.value.causes} == {'conflict with "mgr" using apps/v1'}


def test_force_takes_ownership() -> None:
    live = run(None, deploy(replicas=2), now=T0)
    out = run(live, deploy(replicas=3), manager="other", force=True)
    assert out["spec"]["replicas"] == 3
    assert ("kubectl", "Apply") not in owners(out), "its only field was taken"
    assert owners(out)[("other", "Apply")]["fieldsV1"] == {"f:spec": {"f:replicas": {}}}


def test_existing_fields_without_owners_go_to_before_first_apply() -> None:
    live = deploy(replicas=1, paused=True)
    live["metadata"]["uid"] = "u"
    with pytest.raises(errors.StatusError) as info:
        run(live, deploy(replicas=4))
    assert 'conflict with "before-first-apply" using apps/v1' in info.value.message


def test_client_side_apply_fields_upgrade_without_force() -> None:
    last = '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},' \
           '"spec":{"replicas":1}}\n'
    live = deploy(replicas=1)
    live["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": last}
    live["metadata"]["managedFields"] = [{
        "manager": "kubectl-client-side-apply", "operation": "Update", "apiVersion": "apps/v1",
        "time": T0, "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]
    out = run(copy.deepcopy(live), deploy(replicas=5))
    assert out["spec"]["replicas"] == 5
    with pytest.raises(errors.StatusError):
        run(copy.deepcopy(live), deploy(replicas=5), manager="someone-else")


def test_managed_fields_in_the_configuration_are_refused() -> None:
    config = deploy(replicas=1)
    config["metadata"]["managedFields"] = []
    with pytest.raises(errors.StatusError) as info:
        run(None, config)
    assert (info.value.code, info.value.message) == (400, "metadata.managedFields must be nil")


def test_item_without_key_is_refused() -> None:
    with pytest.raises(errors.StatusError) as info:
        run(None, pod({"image": "x"}))
    assert 'omits key field "name"' in info.value.message
