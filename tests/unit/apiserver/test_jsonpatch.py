"""JSON patch (RFC 6902), merge patch (RFC 7386) and the PATCH dispatcher."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from kubelite.api.errors import StatusError
from kubelite.apiserver.openapi import openapi
from kubelite.apiserver.patch import jsonpatch, mergepatch, patch

DOC = {"metadata": {"name": "p", "labels": {"a/b": "1", "t~x": "2"}},
       "spec": {"containers": [{"name": "a"}, {"name": "b"}]}}

OK_CASES: list[tuple[str, list[dict[str, Any]], dict[str, Any]]] = [
    ("add a key", [{"op": "add", "path": "/metadata/labels/new", "value": "3"}],
     {**DOC, "metadata": {**DOC["metadata"],
                          "labels": {"a/b": "1", "t~x": "2", "new": "3"}}}),
    ("escaped tokens", [{"op": "remove", "path": "/metadata/labels/a~1b"},
                        {"op": "replace", "path": "/metadata/labels/t~0x", "value": "9"}],
     {**DOC, "metadata": {"name": "p", "labels": {"t~x": "9"}}}),
    ("insert into an array and append with -",
     [{"op": "add", "path": "/spec/containers/1", "value": {"name": "m"}},
      {"op": "add", "path": "/spec/containers/-", "value": {"name": "z"}}],
     {**DOC, "spec": {"containers": [{"name": "a"}, {"name": "m"}, {"name": "b"},
                                     {"name": "z"}]}}),
    ("move and copy",
     [{"op": "copy", "from": "/spec/containers/0", "path": "/spec/first"},
      {"op": "move", "from": "/metadata/name", "path": "/spec/name"}],
     {"metadata": {"labels": DOC["metadata"]["labels"]},
      "spec": {"containers": DOC["spec"]["containers"], "first": {"name": "a"},
               "name": "p"}}),
    ("test passes with equal numbers", [{"op": "add", "path": "/n", "value": 1},
                                        {"op": "test", "path": "/n", "value": 1.0}],
     {**DOC, "n": 1}),
    ("remove from an array", [{"op": "remove", "path": "/spec/containers/0"}],
     {**DOC, "spec": {"containers": [{"name": "b"}]}}),
]


@pytest.mark.parametrize(("ops", "expected"), [c[1:] for c in OK_CASES],
                         ids=[c[0] for c in OK_CASES])
def test_json_patch_operations(ops: list[dict[str, Any]], expected: dict[str, Any]) -> None:
    before = orjson.dumps(DOC)
    assert jsonpatch.apply(DOC, ops) == expected
    assert orjson.dumps(DOC) == before


@pytest.mark.parametrize("ops", [
    [{"op": "test", "path": "/metadata/name", "value": "other"}],
    [{"op": "replace", "path": "/metadata/missing", "value": 1}],
    [{"op": "remove", "path": "/spec/containers/5"}],
    [{"op": "add", "path": "/nope/deeper", "value": 1}],
    [{"op": "move", "from": "/spec", "path": "/spec/inner"}],
    [{"op": "frobnicate", "path": "/x"}],
    [{"op": "add", "path": "/x"}],
    [{"op": "test", "path": "/n", "value": True}, {"op": "add", "path": "/n", "value": 1}],
])
def test_json_patch_failures_are_a_bare_422(ops: list[dict[str, Any]]) -> None:
    with pytest.raises(StatusError) as e:
        jsonpatch.apply({**DOC, "n": 1}, ops)
    assert (e.value.code, e.value.reason) == (422, "Invalid")
    assert e.value.message == "the server rejected our request due to an error in our request"


def test_json_patch_is_atomic() -> None:
    doc = {"a": 1}
    with pytest.raises(StatusError):
        jsonpatch.apply(doc, [{"op": "add", "path": "/b", "value": 2},
                              {"op": "test", "path": "/a", "value": 2}])
    assert doc == {"a": 1}


def test_json_patch_shape_errors() -> None:
    with pytest.raises(StatusError) as e:
        jsonpatch.apply(DOC, {"op": "add"})
    assert e.value.code == 400 and "jsonpatch.Patch" in e.value.message
    with pytest.raises(StatusError) as e:
        jsonpatch.apply(DOC, [{"op": "test", "path": "/a"}] * 10001)
    assert e.value.code == 413


@pytest.mark.parametrize(("target", "merge", "expected"), [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
])
def test_merge_patch_rfc7386_examples(target: dict[str, Any], merge: dict[str, Any],
                                      expected: dict[str, Any]) -> None:
    assert mergepatch.apply(target, merge) == expected


def test_merge_patch_must_be_an_object() -> None:
    with pytest.raises(StatusError) as e:
        mergepatch.apply({}, ["a"])
    assert e.value.code == 400


def test_dispatcher_by_content_type() -> None:
    live = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b"}]}}
    schema = openapi.schema_for("", "v1", "Pod")
    smp_body = b'{"spec":{"containers":[{"name":"a","image":"y"}]}}'
    out = patch.apply_patch("application/strategic-merge-patch+json; charset=utf-8", live,
                            smp_body, schema)
    assert out["spec"]["containers"] == [{"name": "a", "image": "y"}, {"name": "b"}]
    out = patch.apply_patch("application/merge-patch+json", live, smp_body, schema)
    assert out["spec"]["containers"] == [{"name": "a", "image": "y"}]
    out = patch.apply_patch("application/json-patch+json", live,
                            b'[{"op":"replace","path":"/metadata/name","value":"q"}]', schema)
    assert out["metadata"]["name"] == "q"
    with pytest.raises(StatusError) as e:
        patch.apply_patch("application/strategic-merge-patch+json", live, smp_body, None)
    assert e.value.code == 415
    with pytest.raises(StatusError) as e:
        patch.apply_patch("text/plain", live, smp_body, schema)
    assert e.value.code == 415
    with pytest.raises(StatusError) as e:
        patch.apply_patch("application/merge-patch+json", live, b"{nope", schema)
    assert e.value.code == 400
