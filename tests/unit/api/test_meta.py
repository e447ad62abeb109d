"""Metadata helpers: generated names, uids, keys and owners."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest

from kubelite.api.meta import (
    GENERATE_NAME_ALPHABET,
    controller_of,
    controller_ref,
    generate_name,
    is_controlled_by,
    namespace_key,
    new_uid,
    now_rfc3339,
    split_namespace_key,
)
from kubelite.api.names import is_dns1123_subdomain


def test_now_rfc3339() -> None:
    t = dt.datetime(2026, 11, 25, 9, 9, 7, 123456, tzinfo=dt.UTC)
    assert now_rfc3339(t) == "2026-11-25T09:09:07Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", now_rfc3339())


def test_uids_are_unique_uuids() -> None:
    uids = {new_uid() for _ in range(100)}
    assert len(uids) == 100
    assert all(str(uuid.UUID(u)) == u for u in uids)


def test_generated_names() -> None:
    names = {generate_name("web-7d4b9c8f5-") for _ in range(50)}
    assert len(names) > 45
    for n in names:
        assert n.startswith("web-7d4b9c8f5-") and len(n) == len("web-7d4b9c8f5-") + 5
        assert set(n[-5:]) <= set(GENERATE_NAME_ALPHABET)
        assert is_dns1123_subdomain(n) == []
    assert generate_name("web-", "abcde") == "web-abcde"


def test_generated_names_are_cut_to_63() -> None:
    name = generate_name("a" * 80)
    assert len(name) == 63 and name.startswith("a" * 58)


@pytest.mark.parametrize(
    ("obj", "key"),
    [
        ({"metadata": {"name": "web", "namespace": "default"}}, "default/web"),
        ({"metadata": {"name": "node-1"}}, "node-1"),
    ],
)
def test_namespace_keys(obj: dict[str, object], key: str) -> None:
    assert namespace_key(obj) == key
    ns, name = split_namespace_key(key)
    assert (ns, name) == ((obj["metadata"].get("namespace") or ""),  # type: ignore[union-attr]
                          obj["metadata"]["name"])  # type: ignore[index]


def test_bad_key() -> None:
    with pytest.raises(ValueError):
        split_namespace_key("a/b/c")


def test_controller_refs() -> None:
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
          "metadata": {"name": "web-1", "uid": "u-rs"}}
    ref = controller_ref(rs)
    assert ref == {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-1",
                   "uid": "u-rs", "controller": True, "blockOwnerDeletion": True}
    pod = {"metadata": {"name": "web-1-x", "ownerReferences": [
        {"apiVersion": "v1", "kind": "Node", "name": "n", "uid": "u-n"}, ref]}}
    assert controller_of(pod) == ref
    assert is_controlled_by(pod, rs)
    assert not is_controlled_by(pod, {"metadata": {"uid": "other"}})
    assert controller_of({"metadata": {}}) is None
