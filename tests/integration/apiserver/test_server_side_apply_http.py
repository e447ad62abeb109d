"""Server-side apply and managedFields at the HTTP level: options, codes, defaults."""

from __future__ import annotations

import json
from typing import Any

from kubelite.testing.inprocess import in_process_api

CMS = "/api/v1/namespaces/default/configmaps"
APPLY = {"Content-Type": "application/apply-patch+yaml"}
CONFIG_YAML = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
data:
  a: "1"
"""


def entries(obj: dict[str, Any]) -> dict[tuple[str, str], Any]:
    return {(e["manager"], e["operation"]): e for e in obj["metadata"]["managedFields"]}


async def test_apply_needs_a_field_manager() -> None:
    async with in_process_api() as api:
        async with api.http.patch(f"{CMS}/cfg", data=CONFIG_YAML, headers=APPLY) as r:
            assert r.status == 422
            body = await r.json()
        assert body["message"] == ('PatchOptions.meta.k8s.io "" is invalid: fieldManager: '
                                   "Required value: is required for apply patch")
        assert body["details"]["causes"] == [{
            "reason": "FieldValueRequired", "field": "fieldManager",
            "message": "Required value: is required for apply patch"}]


async def test_apply_creates_201_then_merges_200_and_is_idempotent() -> None:
    async with in_process_api() as api:
        url = f"{CMS}/cfg?fieldManager=tester&force=false"
        async with api.http.patch(url, data=CONFIG_YAML, headers=APPLY) as r:
            assert r.status == 201
            created = await r.json()
        assert created["data"] == {"a": "1"} and created["metadata"]["uid"]
        (entry,) = created["metadata"]["managedFields"]
        assert (entry["manager"], entry["operation"]) == ("tester", "Apply")
        assert entry["fieldsV1"] == {"f:data": {"f:a": {}}}

        async with api.http.patch(url, data=CONFIG_YAML, headers=APPLY) as r:
            assert r.status == 200
            again = await r.json()
        assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]

        changed = CONFIG_YAML.replace('a: "1"', 'b: "2"')
        async with api.http.patch(url, data=changed, headers=APPLY) as r:
            assert r.status == 200
            merged = await r.json()
        assert merged["data"] == {"b": "2"}, "a was owned by tester only, so it is removed"


async def test_apply_checks_name_and_kind() -> None:
    async with in_process_api() as api:
        url = f"{CMS}/other?fieldManager=tester"
        async with api.http.patch(url, data=CONFIG_YAML, headers=APPLY) as r:
            assert r.status == 400
            body = await r.json()
        assert body["message"] == ("the name of the object (cfg) does not match the name on "
                                   "the URL (other)")
        wrong = CONFIG_YAML.replace("kind: ConfigMap", "kind: Secret")
        async with api.http.patch(f"{CMS}/cfg?fieldManager=t", data=wrong, headers=APPLY) as r:
            assert r.status == 400
            assert (await r.json())["message"] == "invalid object type: v1, Kind=Secret"


async def test_updates_record_the_user_agent_or_field_manager() -> None:
    async with in_process_api() as api:
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "u"},
              "data": {"a": "1"}}
        headers = {"User-Agent": "kubectl/v1.32.0 (linux/amd64) kubernetes/abc"}
        async with api.http.post(CMS, json=cm, headers=headers) as r:
            assert r.status == 201
            created = await r.json()
        (entry,) = created["metadata"]["managedFields"]
        assert (entry["manager"], entry["operation"]) == ("kubectl", "Update")
        assert entry["fieldsV1"] == {"f:data": {".": {}, "f:a": {}}}

        patch = json.dumps({"data": {"a": "2"}})
        async with api.http.patch(f"{CMS}/u?fieldManager=editor", data=patch,
                                  headers={"Content-Type": "application/merge-patch+json"}) as r:
            assert r.status == 200
            patched = await r.json()
        owners = entries(patched)
        assert owners[("editor", "Update")]["fieldsV1"] == {"f:data": {"f:a": {}}}
        assert owners[("kubectl", "Update")]["fieldsV1"] == {"f:data": {}}

        apply_a = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: u}\ndata: {a: "3"}\n'
        async with api.http.patch(f"{CMS}/u?fieldManager=applier", data=apply_a,
                                  headers=APPLY) as r:
            assert r.status == 409
            body = await r.json()
        assert body["message"] == ('Apply failed with 1 conflict: conflict with "editor" '
                                   "using v1: .data.a")

        async with api.http.patch(f"{CMS}/u?fieldManager=x&force=true", data=patch,
                                  headers={"Content-Type": "application/merge-patch+json"}) as r:
            assert r.status == 422
            assert (await r.json())["message"] == (
                'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be '
                "specified for non-apply patch")
