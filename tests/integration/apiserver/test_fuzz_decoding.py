"""Fuzz tier (fast part): malformed, mistyped, deep and huge bodies, query strings and
patches of every kind against an in-process API server.

Properties, for every generated request: the answer is a Status or an object, never a 5xx
other than kube's 504 for a too-new resourceVersion; an accepted write reads back clean
(:func:`kubelite.testing.hostile.stored_is_clean`); a cluster-wide LIST still answers.
Hypothesis runs derandomized with bounded examples, so CI sees the same inputs each run.
"""

from __future__ import annotations

import itertools
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubelite.testing import hostile

FUZZ = settings(derandomize=True, max_examples=300, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

_names = (f"fz{i}" for i in itertools.count())

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**31, -(2**31) - 1, 2**63, 2**40, 0, -1]),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20),
    st.sampled_from(["", "abc", "1", "true", "2001-12-14", "!!", "aGVsbG8="]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)

PATHS = {
    "ConfigMap": [("data",), ("data", "a"), ("binaryData",), ("metadata",),
                  ("metadata", "labels"), ("metadata", "annotations", "x"), ("immutable",),
                  ("metadata", "generateName"), ("metadata", "finalizers"), ("spec",)],
    "Pod": [("spec",), ("spec", "containers"), ("spec", "containers", 0),
            ("spec", "containers", 0, "image"), ("spec", "containers", 0, "command"),
            ("spec", "containers", 0, "ports"), ("spec", "containers", 0, "resources"),
            ("spec", "terminationGracePeriodSeconds"), ("spec", "restartPolicy"),
            ("metadata", "labels"), ("metadata", "ownerReferences"), ("status",)],
    "Deployment": [("spec", "replicas"), ("spec", "selector"), ("spec", "template"),
                   ("spec", "strategy"), ("spec", "template", "spec", "containers"),
                   ("spec", "template", "metadata", "labels"), ("spec", "paused"),
                   ("metadata", "deletionGracePeriodSeconds")],
    "Secret": [("data",), ("data", "a"), ("stringData",), ("type",)],
}
BASE = {
    "ConfigMap": (hostile.CM, lambda n: hostile.configmap(n, data={"a": "b"})),
    "Pod": (hostile.PODS, lambda n: hostile.pod(n)),
    "Deployment": (hostile.DEPLOYS, lambda n: hostile.deployment(n)),
    "Secret": (hostile.NS + "/secrets",
               lambda n: {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": n},
                          "data": {"a": "YQ=="}}),
}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[hostile.ThreadedAPI]:
    server = hostile.ThreadedAPI(Path(tmp_path_factory.mktemp("fuzz")))
    seed = hostile.deployment("seed")
    assert server.client.request("POST", hostile.DEPLOYS, hostile.dumps(seed)).status == 201
    yield server
    server.close()


def _set(obj: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        nxt = obj[key] if isinstance(obj, dict) and key in obj else None
        if isinstance(key, int) and isinstance(obj, list) and key < len(obj):
            nxt = obj[key]
        if not isinstance(nxt, dict | list):
            nxt = {}
            obj[key] = nxt
        obj = nxt
    if isinstance(obj, list):
        obj[:] = [value]
    else:
        obj[path[-1]] = value


def _check(api: hostile.ThreadedAPI, resp: hostile.Response, read_back: str = "") -> None:
    assert resp.status < 500 or resp.status == 504, (resp.status, resp.body[:300])
    if resp.status >= 400:
        assert resp.json()["kind"] == "Status", resp.body[:200]
    elif read_back:
        got = api.client.request("GET", read_back)
        assert got.status == 200, got.body[:200]
        assert hostile.stored_is_clean(got.json()) is None, got.body[:400]
    assert api.client.request("GET", "/api/v1/configmaps?limit=1").status == 200


@FUZZ
@given(kind=st.sampled_from(sorted(PATHS)), data=st.data(), value=values)
def test_mistyped_creates(api: hostile.ThreadedAPI, kind: str, data: st.DataObject,
                          value: Any) -> None:
    path, make = BASE[kind]
    name = next(_names)
    obj = make(name)
    _set(obj, data.draw(st.sampled_from(PATHS[kind])), value)
    resp = api.client.request("POST", path, hostile.dumps(obj))
    stored = (resp.json().get("metadata") or {}).get("name", "") if resp.status == 201 else ""
    _check(api, resp, f"{path}/{stored}" if stored else "")
    if stored:
        api.client.request("DELETE", f"{path}/{stored}?gracePeriodSeconds=0")


@FUZZ
@given(body=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)),
       ctype=st.sampled_from(["application/json", hostile.YAML, hostile.APPLY,
                              hostile.MERGE, hostile.STRATEGIC, hostile.JSON_PATCH]))
def test_malformed_bodies(api: hostile.ThreadedAPI, body: bytes, ctype: str) -> None:
    if ctype in ("application/json", hostile.YAML):
        _check(api, api.client.request("POST", hostile.CM, body, ctype))
    else:
        suffix = "?fieldManager=fuzz" if ctype == hostile.APPLY else ""
        _check(api, api.client.request("PATCH", hostile.DEPLOYS + "/seed" + suffix, body,
                                       ctype))


@FUZZ
@given(params=st.dictionaries(
    st.sampled_from(["limit", "continue", "resourceVersion", "resourceVersionMatch",
                     "labelSelector", "fieldSelector", "timeoutSeconds", "watch",
                     "allowWatchBookmarks", "gracePeriodSeconds", "fieldValidation"]),
    st.one_of(st.text(max_size=12), st.sampled_from(
        ["nan", "inf", "1e309", "-1", "0", "1", "abc", "a in ()", "a!=", "Exact",
         "NotOlderThan", "99999999999999999999", "true", "T"]))))
def test_query_strings(api: hostile.ThreadedAPI, params: dict[str, str]) -> None:
    if hostile.query_watches(params):
        params["timeoutSeconds"] = "1"  # a valid watch must end: the property is no hang
    qs = urllib.parse.urlencode(params)
    _check(api, api.client.request("GET", f"{hostile.CM}?{qs}"))
    _check(api, api.client.request("GET", f"{hostile.DEPLOYS}/seed?{qs}"))


patch_docs = st.one_of(
    st.fixed_dictionaries({"spec": st.dictionaries(
        st.sampled_from(["replicas", "template", "selector", "paused", "foo",
                         "minReadySeconds", "strategy"]), values, max_size=3)}),
    st.fixed_dictionaries({"metadata": st.dictionaries(
        st.sampled_from(["labels", "annotations", "name", "resourceVersion", "bar"]),
        values, max_size=2)}),
    values)
json_patches = st.lists(st.fixed_dictionaries({
    "op": st.sampled_from(["add", "replace", "remove", "test", "move", "copy", "bogus"]),
    "path": st.sampled_from(["/spec/replicas", "/spec/template/spec/containers/0/image",
                             "/metadata/labels", "/metadata", "/spec/foo", "/x/y", "",
                             "/spec/template/spec/containers/-", "/status"]),
    "value": values}), max_size=3)


@FUZZ
@given(ctype=st.sampled_from([hostile.MERGE, hostile.STRATEGIC, hostile.APPLY,
                              hostile.JSON_PATCH]),
       doc=patch_docs, ops=json_patches)
def test_patches_of_every_kind(api: hostile.ThreadedAPI, ctype: str, doc: Any,
                               ops: list[Any]) -> None:
    path = hostile.DEPLOYS + "/seed"
    if ctype == hostile.JSON_PATCH:
        body: Any = ops
    elif ctype == hostile.APPLY:
        body = {**hostile.deployment("seed"), **(doc if isinstance(doc, dict) else {})}
        path += "?fieldManager=fuzz&force=true"
    else:
        body = doc
    _check(api, api.client.request("PATCH", path, hostile.dumps(body), ctype),
           hostile.DEPLOYS + "/seed")


@FUZZ
@given(levels=st.integers(min_value=1, max_value=3000),
       shape=st.sampled_from(["json", "yaml", "flow"]),
       where=st.sampled_from(["data", "spec"]))
def test_deep_bodies(api: hostile.ThreadedAPI, levels: int, shape: str, where: str) -> None:
    name = next(_names)
    if shape == "json":
        inner = b'{"a":' * levels + b'"x"' + b"}" * levels
        body = (b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"' + name.encode()
                + b'"},"' + where.encode() + b'":' + inner + b"}")
        ctype = "application/json"
    else:
        make = hostile.deep_yaml if shape == "yaml" else hostile.deep_flow_yaml
        body = make(levels).replace(b"name: deep", b"name: " + name.encode()).replace(
            b"\ndata:", b"\n" + where.encode() + b":")
        ctype = hostile.YAML
    resp = api.client.request("POST", hostile.CM, body, ctype)
    assert resp.status in (201, 400, 413), resp.body[:200]
    _check(api, resp, f"{hostile.CM}/{name}" if resp.status == 201 else "")
