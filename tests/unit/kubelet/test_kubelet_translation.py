"""Back-off, env and $(VAR) expansion, resources, config file, static manifests."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubelite.kubelet.backoff import Backoff
from kubelite.kubelet.config import ConfigError, load_or_create
from kubelite.kubelet.envvars import ContainerConfigError, container_env, expand
from kubelite.kubelet.kuberuntime.runtime_config import resources, sandbox_config, security
from kubelite.kubelet.podspec import pull_policy
from kubelite.kubelet.static_pods import mirror_pod, read_manifests
from kubelite.testing.fake_clock import FakeClock


async def test_backoff_doubles_caps_and_resets_after_ten_minutes() -> None:
    clock = FakeClock()
    b = Backoff(clock=clock)
    finished = clock()
    assert not b.in_backoff_since("k", finished)
    delays = [b.next("k") for _ in range(7)]
    assert delays == [10, 20, 40, 80, 160, 300, 300]
    assert b.in_backoff_since("k", clock())
    await clock.advance(299)
    assert b.in_backoff_since("k", finished)
    await clock.advance(2)
    assert not b.in_backoff_since("k", finished)
    await clock.advance(600)  # left alone for 10 minutes: starts over
    assert b.next("k") == 10


@pytest.mark.parametrize(("text", "want"), [
    ("$(A)", "1"), ("$(A)-$(B)", "1-two"), ("$$(A)", "$(A)"), ("$(MISSING)", "$(MISSING)"),
    ("a$", "a$"), ("$(A", "$(A"), ("x$$y", "x$y"),
])
def test_expand(text: str, want: str) -> None:
    assert expand(text, {"A": "1", "B": "two"}) == want


async def test_env_sources_in_order() -> None:
    objs: dict[tuple[str, str], dict[str, Any]] = {
        ("ConfigMap", "cm"): {"data": {"K": "from-cm", "OTHER": "o"}},
        ("Secret", "sec"): {"data": {"pw": base64.b64encode(b"s3cret").decode()}},
    }

    async def get(kind: str, ns: str, name: str) -> dict[str, Any] | None:
        return objs.get((kind, name))

    pod = {"metadata": {"name": "p", "namespace": "ns1", "uid": "u",
                        "labels": {"app": "web"}}, "spec": {"nodeName": "n1"}}
    c = {"name": "c", "envFrom": [{"configMapRef": {"name": "cm"}, "prefix": "CM_"}], "env": [
        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
        {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "sec", "key": "pw"}}},
        {"name": "K", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "K"}}},
        {"name": "MSG", "value": "$(POD) on $(CM_OTHER)"},
        {"name": "OPT", "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "x",
                                                          "optional": True}}},
        {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory",
                                                           "divisor": "1Mi"}}},
    ], "resources": {"limits": {"memory": "64Mi"}}}
    env = dict(await container_env(pod, c, get, pod_ip="10.1.1.1"))
    assert env == {"CM_K": "from-cm", "CM_OTHER": "o", "POD": "p", "APP": "web",
                   "IP": "10.1.1.1", "PW": "s3cret", "K": "from-cm", "MSG": "p on o",
                   "MEM": "64"}
    missing = {"name": "c", "env": [{"name": "X", "valueFrom": {
        "secretKeyRef": {"name": "sec", "key": "nokey"}}}]}
    with pytest.raises(ContainerConfigError, match="couldn't find key nokey in Secret ns1/sec"):
        await container_env(pod, missing, get)


def test_resources_to_cgroups() -> None:
    r = resources({"resources": {"requests": {"cpu": "250m"},
                                 "limits": {"cpu": "500m", "memory": "128Mi"}}})
    assert (r.cpu_shares, r.cpu_quota, r.cpu_period) == (256, 50000, 100000)
    assert r.memory_limit_bytes == 128 * 1024 * 1024
    only_limit = resources({"resources": {"limits": {"cpu": "1"}}})
    assert only_limit.cpu_shares == 1024  # request defaults to the limit
    assert resources({}).cpu_shares == 2 and resources({}).memory_limit_bytes is None
    assert resources({"resources": {"limits": {"cpu": "1m"}}}).cpu_quota == 1000


def test_security_context_container_overrides_pod() -> None:
    pod = {"spec": {"securityContext": {"runAsUser": 1000, "runAsGroup": 3000,
                                        "fsGroup": 2000}}}
    sc = security(pod, {"securityContext": {"runAsUser": 5, "readOnlyRootFilesystem": True,
                                            "allowPrivilegeEscalation": False,
                                            "capabilities": {"add": ["NET_ADMIN"],
                                                             "drop": ["ALL"]}}})
    assert (sc.run_as_user, sc.run_as_group, sc.supplemental_groups) == (5, 3000, (2000,))
    assert sc.readonly_rootfs and sc.no_new_privs
    assert sc.add_capabilities == ("NET_ADMIN",) and sc.drop_capabilities == ("ALL",)


def test_sandbox_config_hostname_ports_dns() -> None:
    pod = {"metadata": {"name": "web", "namespace": "prod", "uid": "u1"},
           "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80,
                                                            "hostPort": 8080}]}]}}
    cfg = sandbox_config(pod, 0, "/logs", cluster_dns=["10.43.0.10"])
    assert cfg.hostname == "web" and cfg.log_directory == "/logs/prod_web_u1"
    assert cfg.port_mappings[0].host_port == 8080
    assert cfg.dns is not None and cfg.dns.searches[0] == "prod.svc.cluster.local"
    assert sandbox_config(pod, 0, "/logs").dns is None  # no cluster DNS: the host's


@pytest.mark.parametrize(("image", "policy"), [
    ("nginx", "Always"), ("nginx:latest", "Always"), ("nginx:1.27", "IfNotPresent"),
    ("localhost:5000/app", "Always"), ("localhost:5000/app:v1", "IfNotPresent"),
    ("nginx@sha256:" + "a" * 64, "IfNotPresent"),
])
def test_default_pull_policy(image: str, policy: str) -> None:
    assert pull_policy({"image": image}) == policy


def test_kubelet_config_written_on_first_start(tmp_path: Path) -> None:
    path = tmp_path / "kubelet" / "config.yaml"
    cfg = load_or_create(path)
    assert cfg.static_pod_path == "/etc/kubernetes/manifests"
    assert yaml.safe_load(path.read_text())["kind"] == "KubeletConfiguration"
    path.write_text(yaml.safe_dump({"kind": "KubeletConfiguration", "staticPodPath": "/m",
                                    "fileCheckFrequency": "1m30s", "maxPods": 20}))
    cfg = load_or_create(path)
    assert (cfg.static_pod_path, cfg.file_check_frequency, cfg.max_pods) == ("/m", 90.0, 20)
    path.write_text("kind: Deployment\n")
    with pytest.raises(ConfigError):
        load_or_create(path)


def test_static_manifests_give_stable_uids(tmp_path: Path) -> None:
    doc = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": {"a": "b"}},
           "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    (tmp_path / "web.yaml").write_text(yaml.safe_dump(doc))
    (tmp_path / ".hidden.yaml").write_text(yaml.safe_dump(doc))
    (tmp_path / "bad.yaml").write_text("kind: Pod\nmetadata: {}\n")
    pods = read_manifests(tmp_path, "n1")
    assert len(pods) == 1
    (uid, p), = pods.items()
    assert p["metadata"]["name"] == "web-n1" and p["spec"]["nodeName"] == "n1"
    assert p["metadata"]["annotations"]["kubernetes.io/config.hash"] == uid
    assert read_manifests(tmp_path, "n1").keys() == {uid}
    doc["spec"]["containers"][0]["image"] = "nginx:2"
    (tmp_path / "web.yaml").write_text(yaml.safe_dump(doc))
    assert read_manifests(tmp_path, "n1").keys() != {uid}
    mirror = mirror_pod(p, "node-uid")
    assert mirror["metadata"]["annotations"]["kubernetes.io/config.mirror"] == uid
    assert mirror["metadata"]["ownerReferences"] == [
        {"apiVersion": "v1", "kind": "Node", "name": "n1", "uid": "node-uid",
         "controller": True}]
    assert mirror["metadata"]["labels"] == {"a": "b"}
