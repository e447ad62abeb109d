"""Field sets: what an object owns, what a write changes, the fieldsV1 wire form, entries."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.apiserver.openapi import openapi
from kubelite.apiserver.patch import fieldpaths as fp
from kubelite.apiserver.patch import managedfields as mf

DEPLOY = openapi.schema_for("apps", "v1", "Deployment")
POD = openapi.schema_for("", "v1", "Pod")
CM = openapi.schema_for("", "v1", "ConfigMap")


def pod(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}


@pytest.mark.parametrize(("obj", "schema", "fields_v1"), [
    # struct fields are members only at their leaves; map entries always are
    ({"metadata": {"labels": {"app": "x"}}}, POD,
     {"f:metadata": {"f:labels": {"f:app": {}}}}),
    # list-map items by their keys, with "." for the item itself
    (pod(containers=[{"name": "c", "image": "i"}]), POD,
     {"f:apiVersion": {}, "f:kind": {}, "f:metadata": {"f:name": {}},
      "f:spec": {"f:containers": {'k:{"name":"c"}': {".": {}, "f:image": {}, "f:name": {}}}}}),
    # a defaulted key field (protocol) is part of the key
    (pod(containers=[{"name": "c", "ports": [{"containerPort": 80}]}]), POD,
     {"f:apiVersion": {}, "f:kind": {}, "f:metadata": {"f:name": {}},
      "f:spec": {"f:containers": {'k:{"name":"c"}': {
          ".": {}, "f:name": {},
          "f:ports": {'k:{"containerPort":80,"protocol":"TCP"}': {
              ".": {}, "f:containerPort": {}}}}}}}),
    # atomic lists and atomic maps are owned as a whole
    (pod(containers=[{"name": "c", "args": ["a", "b"]}], tolerations=[{"key": "k"}]), POD,
     {"f:apiVersion": {}, "f:kind": {}, "f:metadata": {"f:name": {}},
      "f:spec": {"f:containers": {'k:{"name":"c"}': {".": {}, "f:args": {}, "f:name": {}}},
                 "f:tolerations": {}}}),
    ({"spec": {"selector": {"matchLabels": {"a": "b"}}}}, DEPLOY,
     {"f:spec": {"f:selector": {}}}),
    # sets by value
    ({"metadata": {"finalizers": ["a/b", "c"]}}, CM,
     {"f:metadata": {"f:finalizers": {'v:"a/b"': {}, 'v:"c"': {}}}}),
    # empty maps and nulls are members themselves
    (pod(containers=[{"name": "c", "resources": {}}]), POD,
     {"f:apiVersion": {}, "f:kind": {}, "f:metadata": {"f:name": {}},
      "f:spec": {"f:containers": {'k:{"name":"c"}': {".": {}, "f:name": {},
                                                     "f:resources": {}}}}}),
    ({"data": {"a": "1", "b": "2"}}, CM, {"f:data": {"f:a": {}, "f:b": {}}}),
])
def test_field_set_of_an_object(obj: dict[str, Any], schema: Any, fields_v1: Any) -> None:
    paths = fp.to_field_set(obj, schema)
    assert fp.to_fields_v1(paths) == fields_v1
    assert fp.from_fields_v1(fields_v1) == paths


def test_list_map_item_without_its_key_is_an_error() -> None:
    with pytest.raises(fp.FieldPathError, match='omits key field "name"'):
        fp.to_field_set(pod(containers=[{"image": "i"}]), POD)


def test_duplicate_keys_are_an_error() -> None:
    with pytest.raises(fp.FieldPathError, match="duplicate entries"):
        fp.to_field_set(pod(containers=[{"name": "c"}, {"name": "c"}]), POD)


@pytest.mark.parametrize(("old", "new", "added", "modified", "removed"), [
    ({"data": {"a": "1"}}, {"data": {"a": "2"}}, set(), {("f:data", "f:a")}, set()),
    ({"data": {"a": "1"}}, {"data": {"a": "1", "b": "2"}}, {("f:data", "f:b")}, set(), set()),
    ({"data": {"a": "1"}}, {}, set(), set(), {("f:data",), ("f:data", "f:a")}),
    ({}, {"data": {"a": "1"}}, {("f:data",), ("f:data", "f:a")}, set(), set()),
    ({"metadata": {"finalizers": ["x"]}}, {"metadata": {"finalizers": ["y"]}},
     {("f:metadata", "f:finalizers", 'v:"y"')}, set(),
     {("f:metadata", "f:finalizers", 'v:"x"')}),
])
def test_compare(old: Any, new: Any, added: set[fp.Path], modified: set[fp.Path],
                 removed: set[fp.Path]) -> None:
    cmp = fp.compare(old, new, CM)
    assert (cmp.added, cmp.modified, cmp.removed) == (added, modified, removed)


def test_compare_item_and_atomic_fields() -> None:
    old = pod(containers=[{"name": "a", "image": "1", "args": ["x"]}])
    new = pod(containers=[{"name": "a", "image": "2", "args": ["y"]},
                          {"name": "b", "image": "3"}])
    cmp = fp.compare(old, new, POD)
    item_b = ("f:spec", "f:containers", 'k:{"name":"b"}')
    assert cmp.added == {item_b, (*item_b, "f:name"), (*item_b, "f:image")}
    item_a = ("f:spec", "f:containers", 'k:{"name":"a"}')
    assert cmp.modified == {(*item_a, "f:image"), (*item_a, "f:args")}
    assert cmp.removed == set()


@pytest.mark.parametrize(("path", "text"), [
    (("f:spec", "f:replicas"), ".spec.replicas"),
    (("f:spec", "f:containers", 'k:{"name":"c"}', "f:image"),
     '.spec.containers[name="c"].image'),
    (("f:spec", "f:ports", 'k:{"port":80,"protocol":"TCP"}'),
     '.spec.ports[port=80,protocol="TCP"]'),
    (("f:metadata", "f:finalizers", 'v:"x"'), '.metadata.finalizers[="x"]'),
    (("f:a", "i:3"), ".a[3]"),
])
def test_path_strings(path: fp.Path, text: str) -> None:
    assert fp.path_string(path) == text


def test_set_algebra_and_remove_items() -> None:
    obj = {"metadata": {"labels": {"a": "1", "b": "2"}}, "data": {"x": "y"}}
    a = fp.to_field_set(obj, CM)
    b = {("f:metadata", "f:labels", "f:b")}
    assert a - b == {("f:metadata", "f:labels", "f:a"), ("f:data", "f:x")}
    assert fp.remove_items(obj, b, CM) == {"metadata": {"labels": {"a": "1"}}, "data": {"x": "y"}}
    gone = fp.remove_items(obj, {("f:data", "f:x")}, CM)
    assert gone == {"metadata": {"labels": {"a": "1", "b": "2"}}}
    assert obj["data"] == {"x": "y"}, "inputs are not mutated"
    named = fp.ensure_named({("f:metadata", "f:labels", "f:a")}, CM)
    assert named == {("f:metadata",), ("f:metadata", "f:labels"),
                     ("f:metadata", "f:labels", "f:a")}


def test_malformed_fields_v1() -> None:
    with pytest.raises(fp.FieldPathError):
        fp.from_fields_v1({"spec": {}})
    with pytest.raises(fp.FieldPathError, match="operation"):
        mf.decode([{"manager": "m", "operation": "Patch", "apiVersion": "v1",
                    "fieldsType": "FieldsV1", "fieldsV1": {}}])


def test_entries_round_trip_in_kube_order() -> None:
    entries = [
        {"manager": "z", "operation": "Update", "apiVersion": "v1", "time": "2024-01-01T00:00:00Z",
         "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:a": {}}}},
        {"manager": "kubectl", "operation": "Apply", "apiVersion": "v1",
         "time": "2024-01-02T00:00:00Z", "fieldsType": "FieldsV1",
         "fieldsV1": {"f:data": {"f:b": {}}}},
        {"manager": "a", "operation": "Update", "apiVersion": "v1", "time": "2024-01-01T00:00:00Z",
         "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {"f:x": {}}}, "subresource": "status"},
    ]
    out = mf.encode(mf.decode(entries))
    assert [e["manager"] for e in out] == ["kubectl", "a", "z"]
    assert mf.encode(mf.decode(out)) == out


def _managers(obj: dict[str, Any]) -> dict[tuple[str, str], Any]:
    return {(e["manager"], e["operation"]): e["fieldsV1"]
            for e in obj["metadata"].get("managedFields") or []}


def test_record_update_on_create_update_and_reset() -> None:
    created = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
               "data": {"a": "1"}}
    mf.record_update(None, created, manager="kubectl-create", api_version="v1", schema=CM,
                     now="2024-01-01T00:00:00Z")
    (entry,) = created["metadata"]["managedFields"]
    assert entry["manager"] == "kubectl-create" and entry["operation"] == "Update"
    assert entry["fieldsV1"] == {"f:data": {".": {}, "f:a": {}}}
    assert entry["time"] == "2024-01-01T00:00:00Z"

    edited = {**created, "data": {"a": "2", "b": "3"}}
    edited["metadata"] = dict(created["metadata"])
    mf.record_update(created, edited, manager="kubectl-edit", api_version="v1", schema=CM,
                     now="2024-01-01T00:00:01Z")
    owners = _managers(edited)
    assert owners[("kubectl-edit", "Update")] == {"f:data": {"f:a": {}, "f:b": {}}}
    assert owners[("kubectl-create", "Update")] == {"f:data": {}}

    unchanged = {**edited, "metadata": dict(edited["metadata"])}
    mf.record_update(edited, unchanged, manager="other", api_version="v1", schema=CM,
                     now="2024-01-01T00:00:02Z")
    assert unchanged["metadata"]["managedFields"] == edited["metadata"]["managedFields"]

    reset = {**edited, "metadata": {**edited["metadata"], "managedFields": []}}
    mf.record_update(edited, reset, manager="x", api_version="v1", schema=CM,
                     now="2024-01-01T00:00:03Z")
    assert "managedFields" not in reset["metadata"]


def test_status_writes_own_only_status() -> None:
    old = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "managedFields": [
        {"manager": "m", "operation": "Update", "apiVersion": "v1", "fieldsType": "FieldsV1",
         "fieldsV1": {"f:spec": {"f:nodeName": {}}}}]}, "spec": {"nodeName": "n"}}
    new = {**old, "status": {"phase": "Running"}}
    mf.record_update(old, new, manager="kubelet", api_version="v1", schema=POD,
                     now="2024-01-01T00:00:00Z", subresource="status",
                     keep=mf.only_prefix(("f:status",)))
    entries = {e["manager"]: e for e in new["metadata"]["managedFields"]}
    assert entries["kubelet"]["subresource"] == "status"
    assert entries["kubelet"]["fieldsV1"] == {"f:status": {".": {}, "f:phase": {}}}
