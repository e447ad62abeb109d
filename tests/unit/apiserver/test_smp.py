"""Strategic merge patch as kube-apiserver applies it, with the 1.32 schemas."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubelite.api.errors import StatusError
from kubelite.apiserver.openapi import openapi
from kubelite.apiserver.patch import smp

POD = openapi.schema_for("", "v1", "Pod")
DEPLOY = openapi.schema_for("apps", "v1", "Deployment")


def pod(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "hello-world", "namespace": "default",
                         "labels": {"app": "hello"}},
            "spec": spec}


def deployment(containers: list[Any], **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"replicas": 1, **spec,
                     "template": {"metadata": {"labels": {"app": "d"}},
                                  "spec": {"containers": containers}}}}


def c(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, **fields}


CASES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    (
        "kubectl apply: image change with $setElementOrder keeps unmentioned fields",
        pod(containers=[c("hello-world", image="hello-app:2.0",
                          ports=[{"containerPort": 8080, "protocol": "TCP"}])]),
        {"metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration":
                                      "{}\n"},
                      "labels": {"tier": "web"}},
         "spec": {"$setElementOrder/containers": [{"name": "hello-world"}],
                  "containers": [{"image": "hello-app:1.0", "name": "hello-world"}]}},
        pod(containers=[c("hello-world", image="hello-app:1.0",
                          ports=[{"containerPort": 8080, "protocol": "TCP"}])]),
    ),
    (
        "null removes a key",
        pod(containers=[c("a", image="x")], restartPolicy="Never"),
        {"metadata": {"labels": {"app": None}}, "spec": {"restartPolicy": None}},
        {**pod(containers=[c("a", image="x")]),
         "metadata": {"name": "hello-world", "namespace": "default", "labels": {}}},
    ),
    (
        "containers merge by name; a new one is appended",
        pod(containers=[c("a", image="x"), c("b", image="y")]),
        {"spec": {"containers": [{"name": "b", "image": "y2"}, {"name": "c", "image": "z"}]}},
        pod(containers=[c("a", image="x"), c("b", image="y2"), c("c", image="z")]),
    ),
    (
        "lists without a merge strategy are replaced",
        pod(containers=[c("a", image="x", args=["1", "2"], command=["sh"])]),
        {"spec": {"containers": [{"name": "a", "args": ["3"]}]}},
        pod(containers=[c("a", image="x", args=["3"], command=["sh"])]),
    ),
    (
        "$patch: delete removes a list item by merge key",
        pod(containers=[c("a", image="x"), c("b", image="y")]),
        {"spec": {"containers": [{"$patch": "delete", "name": "a"}]}},
        pod(containers=[c("b", image="y")]),
    ),
    (
        "$patch: replace in a list replaces it with the other items",
        pod(containers=[c("a", image="x"), c("b", image="y")]),
        {"spec": {"containers": [{"name": "c", "image": "z"}, {"$patch": "replace"}]}},
        pod(containers=[c("c", image="z")]),
    ),
    (
        "$patch: replace in a map replaces the map",
        pod(containers=[c("a", image="x")], nodeSelector={"a": "1", "b": "2"}),
        {"spec": {"nodeSelector": {"$patch": "replace", "c": "3"}}},
        pod(containers=[c("a", image="x")], nodeSelector={"c": "3"}),
    ),
    (
        "$patch: delete in a map empties it",
        pod(containers=[c("a", image="x")], securityContext={"runAsUser": 1}),
        {"spec": {"securityContext": {"$patch": "delete"}}},
        pod(containers=[c("a", image="x")], securityContext={}),
    ),
    (
        "ports merge on containerPort",
        pod(containers=[c("a", ports=[{"containerPort": 80, "name": "http"},
                                      {"containerPort": 443}])]),
        {"spec": {"containers": [{"name": "a", "ports": [{"containerPort": 80,
                                                          "name": "web"}]}]}},
        pod(containers=[c("a", ports=[{"containerPort": 80, "name": "web"},
                                      {"containerPort": 443}])]),
    ),
    (
        "$retainKeys on a volume drops the old source",
        pod(containers=[c("a")], volumes=[{"name": "v", "hostPath": {"path": "/x"}},
                                          {"name": "w", "emptyDir": {}}]),
        {"spec": {"volumes": [{"name": "v", "emptyDir": {},
                               "$retainKeys": ["emptyDir", "name"]}]}},
        pod(containers=[c("a")], volumes=[{"name": "v", "emptyDir": {}},
                                          {"name": "w", "emptyDir": {}}]),
    ),
    (
        "primitive list with merge strategy is unioned, patch order first",
        {"metadata": {"finalizers": ["a", "b"]}},
        {"metadata": {"finalizers": ["c", "a"]}},
        {"metadata": {"finalizers": ["c", "a", "b"]}},
    ),
    (
        "$deleteFromPrimitiveList removes scalars",
        {"metadata": {"finalizers": ["a", "b", "c"]}},
        {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]}},
        {"metadata": {"finalizers": ["a", "c"]}},
    ),
    (
        "$setElementOrder reorders while keeping server-only items in place",
        pod(containers=[c("a"), c("s"), c("b")]),
        {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}},
        pod(containers=[c("s"), c("b"), c("a")]),
    ),
    (
        "a field missing from the original takes the patch value without directives",
        pod(containers=[c("a")]),
        {"spec": {"initContainers": [{"name": "i", "env": [{"$patch": "delete",
                                                             "name": "x"}]}],
                  "hostname": "h", "dnsConfig": {"options": None, "searches": ["s"]}}},
        pod(containers=[c("a")], initContainers=[{"name": "i", "env": []}], hostname="h",
            dnsConfig={"searches": ["s"]}),
    ),
    (
        "unknown fields have no strategy: maps merge, lists are replaced",
        pod(containers=[c("a")], extra={"x": [1, 2], "y": {"k": "v"}}),
        {"spec": {"extra": {"x": [3], "y": {"l": "w"}}}},
        pod(containers=[c("a")], extra={"x": [3], "y": {"k": "v", "l": "w"}}),
    ),
]


@pytest.mark.parametrize(("original", "patch", "expected"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_pod_patches(original: dict[str, Any], patch: dict[str, Any],
                     expected: dict[str, Any]) -> None:
    before, patch_before = copy.deepcopy(original), copy.deepcopy(patch)
    result = smp.apply(original, patch, POD)
    if "annotations" in (patch.get("metadata") or {}):
        expected = copy.deepcopy(expected)
        expected["metadata"]["annotations"] = patch["metadata"]["annotations"]
        expected["metadata"]["labels"] = {**expected["metadata"]["labels"],
                                          **patch["metadata"]["labels"]}
    assert result == expected
    assert original == before and patch == patch_before


def test_kubectl_env_patch_deletes_and_adds_in_order() -> None:
    # the patch kubectl 1.32 sent for "remove env B, add env C" (kubectl-wire.md 2.4)
    live = deployment([c("app", image="x", env=[{"name": "A", "value": "1"},
                                                {"name": "B", "value": "2"}])])
    patch = {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "app"}],
        "containers": [{"$setElementOrder/env": [{"name": "A"}, {"name": "C"}],
                        "env": [{"name": "C", "value": "3"},
                                {"$patch": "delete", "name": "B"}],
                        "name": "app"}]}}}}
    out = smp.apply(live, patch, DEPLOY)
    assert out["spec"]["template"]["spec"]["containers"] == [
        c("app", image="x", env=[{"name": "A", "value": "1"}, {"name": "C", "value": "3"}])]


def test_deployment_strategy_retain_keys_switches_to_recreate() -> None:
    live = deployment([c("app")], strategy={"type": "RollingUpdate",
                                            "rollingUpdate": {"maxSurge": "25%"}})
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    out = smp.apply(live, patch, DEPLOY)
    assert out["spec"]["strategy"] == {"type": "Recreate"}


def test_scalar_lists_compare_like_go_json() -> None:
    # 1 and 1.0 are the same JSON number
    out = smp.apply({"metadata": {"finalizers": [1]}},
                    {"metadata": {"finalizers": [1.0, 2]}}, POD)
    assert out["metadata"]["finalizers"] == [1, 2]
    with pytest.raises(StatusError) as e:
        smp.apply({"metadata": {"finalizers": [1]}}, {"metadata": {"finalizers": [True]}},
                  POD)
    assert "list element types are not identical" in e.value.message


@pytest.mark.parametrize(("patch", "code", "message"), [
    ({"spec": {"volumes": [{"name": "v", "emptyDir": {}, "$retainKeys": ["name"]}]}},
     400, "invalid patch format of retainKeys"),
    ({"spec": {"containers": [{"image": "no-name"}]}}, 500,
     "does not contain declared merge key: name"),
    ({"spec": {"containers": [{"name": "a"}, {"$patch": "merge"}]}}, 500,
     "merging lists cannot yet be specified in the patch"),
    ({"spec": {"$setElementOrder/containers": [{"name": "a"}],
               "containers": [{"name": "b"}]}}, 500, "doesn't match $setElementOrder list"),
    ({"metadata": {"$deleteFromPrimitiveList": ["a"]}}, 400,
     "invalid patch format of primitive list"),
    ({"metadata": {"ownerReferences": [["nested"]]}}, 422,
     "the server rejected our request due to an error in our request"),
    ({"spec": {"$patch": "bogus"}}, 500, "unknown patch type: bogus"),
])
def test_bad_patches_fail_like_kube(patch: dict[str, Any], code: int, message: str) -> None:
    live = pod(containers=[c("a")], volumes=[{"name": "v", "emptyDir": {}}])
    live["metadata"]["ownerReferences"] = []
    with pytest.raises(StatusError) as e:
        smp.apply(live, patch, POD)
    assert e.value.code == code
    assert message in e.value.message


def test_patch_must_be_an_object() -> None:
    with pytest.raises(StatusError) as e:
        smp.apply(pod(), [{"op": "add"}], POD)
    assert e.value.code == 400
