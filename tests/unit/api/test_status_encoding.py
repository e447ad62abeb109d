"""Status bodies byte for byte as kube-apiserver writes them, and Go's reason phrases."""

from __future__ import annotations

import pytest

from kubelite.api import errors


@pytest.mark.parametrize(("err", "body"), [
    (errors.already_exists("pods", "x"),
     b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
     b'"message":"pods \\"x\\" already exists","reason":"AlreadyExists",'
     b'"details":{"name":"x","kind":"pods"},"code":409}\n'),
    (errors.not_found("deployments", "web", "apps"),
     b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
     b'"message":"deployments.apps \\"web\\" not found","reason":"NotFound",'
     b'"details":{"name":"web","group":"apps","kind":"deployments"},"code":404}\n'),
    (errors.invalid("Pod", "p", [errors.Cause("FieldValueRequired", "Required value",
                                              "spec.containers")]),
     b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
     b'"message":"Pod \\"p\\" is invalid: spec.containers: Required value",'
     b'"reason":"Invalid","details":{"name":"p","kind":"Pod","causes":[{"reason":'
     b'"FieldValueRequired","message":"Required value","field":"spec.containers"}]},'
     b'"code":422}\n'),
    (errors.bad_request("no"),
     b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
     b'"message":"no","reason":"BadRequest","code":400}\n'),
    (errors.StatusError(500, "", "boom"),
     b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
     b'"message":"boom","code":500}\n'),
])
def test_error_bodies(err: errors.StatusError, body: bytes) -> None:
    assert err.body() == body


@pytest.mark.parametrize(("doc", "body"), [
    # any key order in, kube's order out; empty fields dropped, metadata always kept
    ({"code": 410, "reason": "Expired", "message": "gone", "status": "Failure",
      "apiVersion": "v1", "kind": "Status"},
     b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
     b'"message":"gone","reason":"Expired","code":410}\n'),
    ({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
      "details": {"uid": "u1", "kind": "pods", "name": "a", "group": ""}},
     b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success",'
     b'"details":{"name":"a","kind":"pods","uid":"u1"}}\n'),
    ({"status": "Failure", "details": {"retryAfterSeconds": 3, "causes": [
        {"field": "f", "message": "m"}], "name": ""}, "code": 429},
     b'{"metadata":{},"status":"Failure","details":{"causes":[{"message":"m",'
     b'"field":"f"}],"retryAfterSeconds":3},"code":429}\n'),
    ({"status": "Failure", "details": {"name": ""}},
     b'{"metadata":{},"status":"Failure"}\n'),
])
def test_encode_status_orders_and_omits(doc: errors.JSON, body: bytes) -> None:
    assert errors.encode_status(doc) == body


@pytest.mark.parametrize(("code", "phrase"), [
    (400, "Bad Request"), (401, "Unauthorized"), (403, "Forbidden"), (404, "Not Found"),
    (405, "Method Not Allowed"), (406, "Not Acceptable"), (409, "Conflict"), (410, "Gone"),
    (413, "Request Entity Too Large"), (415, "Unsupported Media Type"),
    (422, "Unprocessable Entity"), (429, "Too Many Requests"),
    (500, "Internal Server Error"), (503, "Service Unavailable"), (504, "Gateway Timeout"),
    (599, ""),
])
def test_reason_phrases_are_go_net_http(code: int, phrase: str) -> None:
    assert errors.reason_phrase(code) == phrase
