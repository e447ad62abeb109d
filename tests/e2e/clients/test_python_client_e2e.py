"""The official Python client (``kubernetes`` from PyPI) on a real node (runc).

What a new user tries first: exec with stdin (the snippet of issue 9), attach, port-forward
of several ports, watch, an informer's list+watch, and ``utils.create_from_yaml``.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from clients_pods import SECOND_PORT_PAGE
from kubernetes import client, config, utils, watch
from kubernetes.stream import portforward, stream

from kubelite.testing.server_process import ServerProcess, wait_for
from kubelite.testing.sockets import read_until_eof

pytestmark = [pytest.mark.e2e, pytest.mark.root]


@pytest.fixture(scope="module")
def api(node: ServerProcess) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(node.kubeconfig))


@pytest.fixture(scope="module")
def core(api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api)


def test_exec_with_stdin_prints_test_string_1(core: client.CoreV1Api) -> None:
    r = stream(core.connect_get_namespaced_pod_exec, "bb", "default", command=["/bin/sh"],
               stdin=True, stdout=True, stderr=True, tty=False, _preload_content=False)
    try:
        r.write_stdin("echo test string 1\n")
        assert r.readline_stdout(timeout=5) == "test string 1"
        r.write_stdin("echo to stderr >&2; exit 7\n")
        assert r.readline_stderr(timeout=5) == "to stderr"
        r.run_forever(timeout=10)
        assert not r.is_open()  # the server closed once the shell exited
        assert r.returncode == 7
    finally:
        r.close()


def test_exec_without_stdin_returns_the_output(core: client.CoreV1Api) -> None:
    out = stream(core.connect_get_namespaced_pod_exec, "bb", "default",
                 command=["sh", "-c", "echo one; echo two"], stdin=False, stdout=True,
                 stderr=True, tty=False)
    assert out == "one\ntwo\n"


def test_attach_reaches_the_containers_stdin(core: client.CoreV1Api) -> None:
    r = stream(core.connect_get_namespaced_pod_attach, "att", "default", stdin=True,
               stdout=True, stderr=True, tty=False, _preload_content=False)
    try:
        r.write_stdin("hello\n")
        assert r.readline_stdout(timeout=10) == "got hello"
        r.write_stdin("again\n")
        assert r.readline_stdout(timeout=10) == "got again"
    finally:
        r.close()


def test_port_forward_of_several_ports(core: client.CoreV1Api) -> None:
    pf = portforward(core.connect_get_namespaced_pod_portforward, "ng", "default",
                     ports="80,8080,81")
    try:
        request = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        web, second = pf.socket(80), pf.socket(8080)
        for sock in (web, second):
            sock.setblocking(True)
            sock.sendall(request)
        # the server closes the connection once every port's pod connection has ended
        page = read_until_eof(web).decode()
        assert page.startswith("HTTP/1.1 200 OK")
        assert "<title>Welcome to nginx!</title>" in page
        other = read_until_eof(second).decode()
        assert other.startswith("HTTP/1.") and other.rstrip().endswith(SECOND_PORT_PAGE)
        assert pf.error(80) is None and pf.error(8080) is None
        error = pf.error(81)  # nobody listens on 81
        assert error is not None and error.startswith("error forwarding port 81 to pod"), error
    finally:
        pf.close()


def test_watch_streams_changes_until_stopped(core: client.CoreV1Api) -> None:
    start = core.list_namespaced_config_map("default").metadata.resource_version
    w = watch.Watch()
    seen: list[tuple[str, str]] = []

    def changes() -> None:
        core.create_namespaced_config_map("default", client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="watched"), data={"a": "1"}))
        core.patch_namespaced_config_map("watched", "default", {"data": {"a": "2"}})
        core.delete_namespaced_config_map("watched", "default")

    threading.Thread(target=changes).start()
    for event in w.stream(core.list_namespaced_config_map, "default",
                          resource_version=start, timeout_seconds=30):
        seen.append((event["type"], event["object"].metadata.name))
        if event["type"] == "DELETED":
            w.stop()
    assert seen == [("ADDED", "watched"), ("MODIFIED", "watched"), ("DELETED", "watched")]


def test_informer_list_then_watch_with_bookmarks(core: client.CoreV1Api) -> None:
    """What an informer does: list, then watch from the list's resourceVersion, keep the
    newest version (bookmarks included) to resume from."""
    core.create_namespaced_config_map("default", client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="inf-a", labels={"inf": "yes"})))
    listed = core.list_namespaced_config_map("default", label_selector="inf=yes")
    cache = {o.metadata.name: o for o in listed.items}
    assert set(cache) == {"inf-a"}
    last = listed.metadata.resource_version
    core.create_namespaced_config_map("default", client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="inf-b", labels={"inf": "yes"})))
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_config_map, "default",
                          label_selector="inf=yes", resource_version=last,
                          allow_watch_bookmarks=True, timeout_seconds=10):
        obj = event["raw_object"] if event["type"] == "BOOKMARK" else None
        if obj is not None:
            last = obj["metadata"]["resourceVersion"]
            continue
        cache[event["object"].metadata.name] = event["object"]
        last = event["object"].metadata.resource_version
        if "inf-b" in cache:
            w.stop()
    assert set(cache) == {"inf-a", "inf-b"}
    # resuming from the newest version replays nothing already seen
    core.delete_namespaced_config_map("inf-a", "default")
    events = [(e["type"], e["object"].metadata.name) for e in watch.Watch().stream(
        core.list_namespaced_config_map, "default", label_selector="inf=yes",
        resource_version=last, timeout_seconds=2)]
    assert events == [("DELETED", "inf-a")]


def test_create_from_yaml_of_a_multi_document_file(api: client.ApiClient,
                                                   core: client.CoreV1Api,
                                                   tmp_path: Path) -> None:
    manifest = tmp_path / "app.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: multi-a\ndata:\n  k: v\n"
        "---\n"
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: multi-svc\nspec:\n"
        "  selector:\n    app: multi\n  ports:\n  - port: 80\n"
        "---\n"
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: multi-deploy\nspec:\n"
        "  replicas: 0\n  selector:\n    matchLabels:\n      app: multi\n  template:\n"
        "    metadata:\n      labels:\n        app: multi\n    spec:\n      containers:\n"
        "      - name: c\n        image: busybox\n")
    created = utils.create_from_yaml(api, str(manifest), namespace="default")
    kinds = [o.kind for group in created for o in group]
    assert kinds == ["ConfigMap", "Service", "Deployment"]
    assert core.read_namespaced_config_map("multi-a", "default").data == {"k": "v"}
    assert core.read_namespaced_service("multi-svc", "default").spec.ports[0].port == 80
    apps = client.AppsV1Api(api)
    assert wait_for(lambda: apps.read_namespaced_deployment(
        "multi-deploy", "default").status.observed_generation == 1, 20)
    # a second run fails as kube-apiserver's duplicate create does
    with pytest.raises(utils.FailToCreateError) as exc:
        utils.create_from_yaml(api, str(manifest), namespace="default")
    statuses = [e.status for e in exc.value.api_exceptions]
    assert statuses == [409, 409, 409]
    assert exc.value.api_exceptions[0].body == (
        '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
        '"message":"configmaps \\"multi-a\\" already exists","reason":"AlreadyExists",'
        '"details":{"name":"multi-a","kind":"configmaps"},"code":409}\n')


def test_exec_tty_resize_on_channel_4(core: client.CoreV1Api) -> None:
    r = stream(core.connect_get_namespaced_pod_exec, "bb", "default", command=["sh"],
               stdin=True, stdout=True, stderr=False, tty=True, _preload_content=False)
    try:
        r.write_channel(4, '{"Width":123,"Height":45}')  # a TEXT frame, as the client sends
        seen = ""

        def sized() -> bool:
            nonlocal seen
            r.write_stdin("stty size\n")
            r.update(timeout=1)
            seen += r.read_stdout()
            return "45 123" in seen

        assert wait_for(sized, 15, 0.2), seen
        r.write_stdin("exit\n")
        r.run_forever(timeout=10)
        assert r.returncode == 0
    finally:
        r.close()


def test_idle_watch_ends_at_the_servers_min_request_timeout(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """``kubelite server --min-request-timeout 1``: a watch without timeoutSeconds that
    sees no change still ends, between 1 and 2 seconds in."""
    proc = ServerProcess(tmp_path_factory.mktemp("min-request-timeout"),
                         extra_args=["--min-request-timeout", "1"]).start()
    try:
        core = client.CoreV1Api(config.new_client_from_config(config_file=str(proc.kubeconfig)))
        started = time.monotonic()
        resp = core.list_namespaced_config_map("default", watch=True, _preload_content=False)
        body = resp.read()
        took = time.monotonic() - started
        resp.release_conn()
        assert body == b""
        assert 1.0 <= took < 2.5, took
    finally:
        proc.stop()
