"""The official Python client (``kubernetes`` from PyPI) against a real kubelite server."""

from __future__ import annotations

import threading
import time

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from kubelite.testing.server_process import ServerProcess

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def core(server: ServerProcess) -> client.CoreV1Api:
    api_client = config.new_client_from_config(config_file=str(server.kubeconfig))
    return client.CoreV1Api(api_client)


def _pod(name: str) -> client.V1Pod:
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels={"app": "py"}),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox")]),
    )


def test_pods_create_list_patch_delete(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_pod("default", _pod("py-pod"))
    assert created.metadata.uid
    assert created.status.phase == "Pending"

    pods = core.list_namespaced_pod("default", label_selector="app=py")
    assert [p.metadata.name for p in pods.items] == ["py-pod"]

    patched = core.patch_namespaced_pod("py-pod", "default",
                                        {"metadata": {"labels": {"tier": "web"}}})
    assert patched.metadata.labels == {"app": "py", "tier": "web"}
    assert int(patched.metadata.resource_version) > int(created.metadata.resource_version)

    core.delete_namespaced_pod("py-pod", "default")
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_pod("py-pod", "default")
    assert exc.value.status == 404


def test_configmaps_crud(core: client.CoreV1Api) -> None:
    cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="settings"),
                            data={"mode": "fast"})
    core.create_namespaced_config_map("default", cm)
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_config_map("default", cm)
    assert exc.value.status == 409

    core.patch_namespaced_config_map("settings", "default", {"data": {"mode": "slow"}})
    got = core.read_namespaced_config_map("settings", "default")
    assert got.data == {"mode": "slow"}
    names = [c.metadata.name for c in core.list_namespaced_config_map("default").items]
    assert "settings" in names
    core.delete_namespaced_config_map("settings", "default")
    assert "settings" not in [
        c.metadata.name for c in core.list_namespaced_config_map("default").items
    ]


def test_watch_sees_added_modified_deleted(core: client.CoreV1Api) -> None:
    start = core.list_namespaced_config_map("default").metadata.resource_version
    seen: list[tuple[str, str]] = []
    w = watch.Watch()

    def consume() -> None:
        for ev in w.stream(core.list_namespaced_config_map, "default",
                           resource_version=start, timeout_seconds=10):
            seen.append((ev["type"], ev["object"].metadata.name))
            if ev["type"] == "DELETED":
                w.stop()

    t = threading.Thread(target=consume)
    t.start()
    time.sleep(0.5)
    cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="watched"), data={"a": "1"})
    core.create_namespaced_config_map("default", cm)
    core.patch_namespaced_config_map("watched", "default", {"data": {"a": "2"}})
    core.delete_namespaced_config_map("watched", "default")
    t.join(15)
    assert seen == [("ADDED", "watched"), ("MODIFIED", "watched"), ("DELETED", "watched")]
