"""How a request is labelled in ``apiserver_request_total``: kube-apiserver's verbs and scopes."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import make_mocked_request

from kubelite.apiserver.metrics import request_labels

APPLY = {"Content-Type": "application/apply-patch+yaml"}

CASES = [
    # method, path, headers, (verb, dry_run, group, version, resource, sub, scope, component),
    # long-running
    ("GET", "/api/v1/namespaces/ns/pods", {},
     ("LIST", "", "", "v1", "pods", "", "namespace", "apiserver"), False),
    ("GET", "/api/v1/pods", {}, ("LIST", "", "", "v1", "pods", "", "cluster", "apiserver"),
     False),
    ("GET", "/api/v1/namespaces/ns/pods/p", {},
     ("GET", "", "", "v1", "pods", "", "resource", "apiserver"), False),
    ("GET", "/api/v1/namespaces/ns/pods?watch=true", {},
     ("WATCH", "", "", "v1", "pods", "", "namespace", "apiserver"), True),
    ("GET", "/api/v1/namespaces/ns/pods?watch=false", {},
     ("LIST", "", "", "v1", "pods", "", "namespace", "apiserver"), False),
    ("POST", "/api/v1/namespaces/ns/pods?dryRun=All", {},
     ("POST", "All", "", "v1", "pods", "", "resource", "apiserver"), False),
    ("PUT", "/apis/apps/v1/namespaces/ns/deployments/d/scale", {},
     ("PUT", "", "apps", "v1", "deployments", "scale", "resource", "apiserver"), False),
    ("PATCH", "/apis/apps/v1/namespaces/ns/deployments/d", APPLY,
     ("APPLY", "", "apps", "v1", "deployments", "", "resource", "apiserver"), False),
    ("PATCH", "/apis/apps/v1/namespaces/ns/deployments/d", {},
     ("PATCH", "", "apps", "v1", "deployments", "", "resource", "apiserver"), False),
    ("DELETE", "/api/v1/namespaces/ns/pods", {},
     ("DELETE", "", "", "v1", "pods", "", "namespace", "apiserver"), False),
    ("GET", "/api/v1/namespaces/ns/pods/p/log", {},
     ("CONNECT", "", "", "v1", "pods", "log", "resource", "apiserver"), True),
    ("POST", "/api/v1/namespaces/ns/pods/p/exec", {},
     ("CONNECT", "", "", "v1", "pods", "exec", "resource", "apiserver"), True),
    ("GET", "/api/v1/nodes", {}, ("LIST", "", "", "v1", "nodes", "", "cluster", "apiserver"),
     False),
    ("GET", "/readyz", {}, ("GET", "", "", "", "", "/readyz", "", ""), False),
    ("GET", "/version/", {}, ("GET", "", "", "", "", "/version", "", "apiserver"), False),
    ("GET", "/apis/apps/v1", {}, ("GET", "", "", "", "", "/apis", "", "apiserver"), False),
    ("GET", "/openapi/v3/apis/apps/v1", {},
     ("GET", "", "", "", "", "/openapi/v3", "", "apiserver"), False),
]


@pytest.mark.parametrize(("method", "path", "headers", "labels", "long_running"), CASES)
def test_labels(method: str, path: str, headers: dict[str, str],
                labels: tuple[str, ...], long_running: bool) -> None:
    request = make_mocked_request(method, path, headers=headers)
    assert request_labels(request) == (labels, long_running)


@pytest.mark.parametrize("path", ["/api/v1/namespaces/ns/nosuchthings", "/random",
                                  "/livez/etcd", "/ui/x"])
def test_paths_outside_the_api_are_not_counted(path: str) -> None:
    assert request_labels(make_mocked_request("GET", path)) is None
