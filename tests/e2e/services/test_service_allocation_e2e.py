"""Service allocation with the real kubectl on a control-plane-only server: clusterIPs
and nodePorts handed out, kube's 422s for bad requests with nothing stored, the
``default/kubernetes`` Service and its endpoints, and the Endpoints/EndpointSlice columns."""

from __future__ import annotations

import json

import pytest

from kubelite.testing.server_process import ServerProcess

pytestmark = pytest.mark.e2e


def ok(server: ServerProcess, *args: str, input: str | None = None) -> str:
    r = server.kubectl(*args, input=input)
    assert r.returncode == 0, r.stderr
    return r.stdout


def refused(server: ServerProcess, *args: str, input: str | None = None) -> str:
    r = server.kubectl(*args, input=input)
    assert r.returncode == 1, r.stdout
    return r.stderr.strip()


def absent(server: ServerProcess, name: str) -> bool:
    r = server.kubectl("get", "service", name)
    return r.returncode == 1 and "NotFound" in r.stderr


def service_yaml(name: str, **spec: object) -> str:
    spec.setdefault("ports", [{"port": 80}])
    spec.setdefault("selector", {"app": name})
    return json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
                       "spec": spec})


def test_out_of_range_and_duplicate_cluster_ips_are_refused(server: ServerProcess) -> None:
    err = refused(server, "create", "service", "clusterip", "outside", "--clusterip",
                  "10.0.0.1", "--tcp=80:80")
    assert err == (
        'error: failed to create ClusterIP service: Service "outside" is invalid: '
        'spec.clusterIPs: Invalid value: []string{"10.0.0.1"}: failed to allocate IP '
        '10.0.0.1: the provided IP (10.0.0.1) is not in the valid range. The range of '
        'valid IPs is 10.43.0.0/16')
    assert absent(server, "outside")
    ok(server, "create", "service", "clusterip", "first", "--clusterip", "10.43.0.20",
       "--tcp=80:80")
    err = refused(server, "apply", "-f", "-",
                  input=service_yaml("second", clusterIP="10.43.0.20"))
    assert err == (
        'The Service "second" is invalid: spec.clusterIPs: Invalid value: '
        '[]string{"10.43.0.20"}: failed to allocate IP 10.43.0.20: provided IP is '
        'already allocated')
    assert absent(server, "second")


def test_taken_node_port_is_refused(server: ServerProcess) -> None:
    ok(server, "create", "service", "nodeport", "np1", "--tcp=80:80", "--node-port=30080")
    err = refused(server, "create", "service", "nodeport", "np2", "--tcp=80:80",
                  "--node-port=30080")
    assert err == ('error: failed to create NodePort service: Service "np2" is invalid: '
                   'spec.ports[0].nodePort: Invalid value: 30080: provided port is already '
                   'allocated')
    assert absent(server, "np2")
    out = ok(server, "get", "service", "np1")
    assert "NodePort" in out and "80:30080/TCP" in out


def test_cluster_ip_may_not_change(server: ServerProcess) -> None:
    ok(server, "create", "service", "clusterip", "fixed", "--tcp=80:80")
    err = refused(server, "patch", "service", "fixed", "-p",
                  '{"spec":{"clusterIP":"10.43.0.77"}}')
    assert err.endswith('spec.clusterIPs[0]: Invalid value: []string{"10.43.0.77"}: '
                        'may not change once set')


def test_headless_external_name_and_defaults(server: ServerProcess) -> None:
    ok(server, "create", "service", "clusterip", "headless", "--clusterip", "None",
       "--tcp=80:80")
    ok(server, "create", "service", "externalname", "ext", "--external-name",
       "example.com")
    rows = {line.split()[0]: line.split() for line in ok(
        server, "get", "services", "headless", "ext").splitlines()[1:]}
    assert rows["headless"][1:3] == ["ClusterIP", "None"]
    assert rows["ext"][1:4] == ["ExternalName", "<none>", "example.com"]
    spec = json.loads(ok(server, "get", "service", "headless", "-o", "json"))["spec"]
    assert (spec["clusterIPs"], spec["ipFamilies"], spec["ipFamilyPolicy"]) == (
        ["None"], ["IPv4"], "SingleStack")


def test_expose_shows_a_cluster_ip(server: ServerProcess) -> None:
    ok(server, "create", "deployment", "hello-world",
       "--image=gcr.io/google-samples/hello-app:2.0", "--port", "8080")
    ok(server, "expose", "deployment", "hello-world", "--port", "8080")
    header, row = ok(server, "get", "service", "hello-world").splitlines()
    assert header.split() == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    cells = row.split()
    assert cells[1] == "ClusterIP" and cells[2].startswith("10.43.") and cells[4] == (
        "8080/TCP")


def test_the_kubernetes_service_and_its_endpoints(server: ServerProcess) -> None:
    row = ok(server, "get", "service", "kubernetes").splitlines()[1].split()
    assert row[:5] == ["kubernetes", "ClusterIP", "10.43.0.1", "<none>", "443/TCP"]
    port = server.url.rsplit(":", 1)[1]
    header, row = ok(server, "get", "endpoints", "kubernetes").splitlines()
    assert header.split() == ["NAME", "ENDPOINTS", "AGE"]
    assert row.split()[:2] == ["kubernetes", f"127.0.0.1:{port}"]
    header, row = ok(server, "get", "endpointslices", "kubernetes").splitlines()
    assert header.split() == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
    assert row.split()[:4] == ["kubernetes", "IPv4", port, "127.0.0.1"]
    described = ok(server, "describe", "service", "kubernetes")
    lines = {line.split(":", 1)[0]: line.split(":", 1)[1].strip()
             for line in described.splitlines() if ":" in line}
    assert (lines["IP"], lines["Port"], lines["TargetPort"], lines["Endpoints"]) == (
        "10.43.0.1", "https  443/TCP", f"{port}/TCP", f"127.0.0.1:{port}")
    # a Service whose selector matches nothing: Endpoints without addresses, a placeholder
    # EndpointSlice
    ok(server, "create", "service", "clusterip", "lonely", "--tcp=80:80")
    server_ok = server.kubectl("wait", "--for=jsonpath={.metadata.name}=lonely",
                               "endpoints/lonely", "--timeout=20s")
    assert server_ok.returncode == 0, server_ok.stderr
    assert ok(server, "get", "ep", "lonely").splitlines()[1].split()[1] == "<none>"
    slices = ok(server, "get", "endpointslices", "-l", "kubernetes.io/service-name=lonely")
    assert slices.splitlines()[1].split()[1:4] == ["IPv4", "<unset>", "<unset>"]
