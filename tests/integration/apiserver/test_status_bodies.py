"""Error responses over HTTP: the body and status line kube-apiserver sends, byte for byte."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.testing.inprocess import in_process_api

PODS = "/api/v1/namespaces/default/pods"


def pod(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}


CONFLICT = (b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
            b'"message":"pods \\"x\\" already exists","reason":"AlreadyExists",'
            b'"details":{"name":"x","kind":"pods"},"code":409}\n')
NOT_FOUND = (b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
             b'"message":"deployments.apps \\"web\\" not found","reason":"NotFound",'
             b'"details":{"name":"web","group":"apps","kind":"deployments"},"code":404}\n')


@pytest.mark.parametrize(("method", "path", "status", "reason", "body"), [
    # a duplicate create: kube-apiserver's 409 byte for byte
    ("POST", PODS, 409, "Conflict", CONFLICT),
    # a grouped kind names its group in details
    ("GET", "/apis/apps/v1/namespaces/default/deployments/web", 404, "Not Found", NOT_FOUND),
])
async def test_error_bodies_byte_for_byte(method: str, path: str, status: int, reason: str,
                                          body: bytes) -> None:
    async with in_process_api() as api:
        async with api.http.post(PODS, json=pod("x")) as r:
            assert r.status == 201
        async with api.http.request(method, path, json=pod("x")) as r:
            assert (r.status, r.reason, r.content_type) == (status, reason, "application/json")
            assert await r.read() == body


async def test_invalid_object_is_422_unprocessable_entity() -> None:
    async with in_process_api() as api:
        bad = pod("y")
        bad["spec"]["containers"] = []
        async with api.http.post(PODS, json=bad) as r:
            assert (r.status, r.reason) == (422, "Unprocessable Entity")
            body = await r.read()
            assert body.startswith(b'{"kind":"Status","apiVersion":"v1","metadata":{},'
                                   b'"status":"Failure","message":"Pod \\"y\\" is invalid: ')
            assert body.endswith(b'"reason":"Invalid","details":{"name":"y","kind":"Pod",'
                                 b'"causes":[{"reason":"FieldValueRequired","message":'
                                 b'"Required value","field":"spec.containers"}]},'
                                 b'"code":422}\n')
