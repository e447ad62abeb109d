"""Defaulting and pod admission against what a Kubernetes 1.32 cluster shows."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from by_resource import admit_pod, apply_defaults

from kubelite.api import errors, scheme
from kubelite.api.image_refs import default_pull_policy, parse_image

SEED = Path(__file__).resolve().parents[2] / "data" / "seed"
SEED_FILES = sorted(SEED.glob("*.yaml"))
JSON = dict[str, Any]


def res(kind: str, api_version: str = "v1") -> scheme.Resource:
    found = scheme.by_kind(api_version, kind)
    assert found is not None
    return found


POD = res("Pod")
DEPLOYMENT = res("Deployment", "apps/v1")
REPLICASET = res("ReplicaSet", "apps/v1")
DAEMONSET = res("DaemonSet", "apps/v1")
SERVICE = res("Service")
NAMESPACE = res("Namespace")
SECRET = res("Secret")


def defaulted(resource: scheme.Resource, obj: JSON, *, admit: bool = True) -> JSON:
    out = copy.deepcopy(obj)
    apply_defaults(resource, out)
    if admit and resource.kind == "Pod":
        admit_pod(out)
    return out


def pod(spec: JSON, **meta: Any) -> JSON:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", **meta},
            "spec": spec}


def one_container(**fields: Any) -> JSON:
    return {"containers": [{"name": "c", "image": "nginx:1.25", **fields}]}


# -- the study notes' manifests ------------------------------------------------------------

@pytest.mark.parametrize("path", SEED_FILES, ids=[p.stem for p in SEED_FILES])
def test_seed_manifest_gets_the_spec_a_cluster_shows(path: Path) -> None:
    manifest = yaml.safe_load(path.read_text())
    expected = yaml.safe_load((SEED / "expected" / path.name).read_text())
    resource = scheme.by_kind(manifest["apiVersion"], manifest["kind"])
    assert resource is not None
    out = defaulted(resource, manifest)
    assert out["spec"] == expected["spec"]
    if resource.kind == "Deployment":
        assert out["status"] == expected["status"]


@pytest.mark.parametrize("path", SEED_FILES, ids=[p.stem for p in SEED_FILES])
def test_defaulting_twice_changes_nothing(path: Path) -> None:
    manifest = yaml.safe_load(path.read_text())
    resource = scheme.by_kind(manifest["apiVersion"], manifest["kind"])
    assert resource is not None
    once = defaulted(resource, manifest)
    twice = copy.deepcopy(once)
    apply_defaults(resource, twice)
    assert twice == once


# -- image pull policy ---------------------------------------------------------------------

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(("image", "policy"), [
    ("nginx", "Always"),
    ("nginx:latest", "Always"),
    ("nginx:1.25", "IfNotPresent"),
    (f"nginx@{DIGEST}", "IfNotPresent"),
    (f"nginx:latest@{DIGEST}", "Always"),
    (f"nginx:1.25@{DIGEST}", "IfNotPresent"),
    ("gcr.io/google-samples/hello-app:2.0", "IfNotPresent"),
    ("gcr.io/google-samples/hello-app", "Always"),
    ("localhost:5000/app", "Always"),
    ("localhost:5000/app:v1", "IfNotPresent"),
    ("Registry.Example.com/team/app", "Always"),
    ("Nginx", "IfNotPresent"),          # uppercase repository: not a valid reference
    ("MyTeam/app", "IfNotPresent"),
    ("nginx:", "IfNotPresent"),
    ("", "IfNotPresent"),
    ("a" * 64, "IfNotPresent"),          # a bare image id is not a name
])
def test_image_pull_policy_follows_the_tag(image: str, policy: str) -> None:
    assert default_pull_policy(image) == policy
    out = defaulted(POD, pod({"containers": [{"name": "c", "image": image}]}))
    assert out["spec"]["containers"][0]["imagePullPolicy"] == policy


def test_parse_image_parts() -> None:
    ref = parse_image(f"docker.io/library/nginx:1.25@{DIGEST}")
    assert ref is not None
    assert (ref.name, ref.tag, ref.digest) == ("docker.io/library/nginx", "1.25", DIGEST)


def test_explicit_pull_policy_is_kept() -> None:
    out = defaulted(POD, pod({"containers": [
        {"name": "c", "image": "nginx", "imagePullPolicy": "Never"}]}))
    assert out["spec"]["containers"][0]["imagePullPolicy"] == "Never"


# -- containers ----------------------------------------------------------------------------

def test_probe_zero_values_are_defaulted_and_set_ones_kept() -> None:
    probe = {"httpGet": {"port": 80}, "timeoutSeconds": 0, "periodSeconds": 3}
    grpc = {"grpc": {"port": 9000}}
    out = defaulted(POD, pod(one_container(livenessProbe=probe, readinessProbe=grpc)))
    ctr = out["spec"]["containers"][0]
    assert ctr["livenessProbe"] == {
        "httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
        "timeoutSeconds": 1, "periodSeconds": 3, "successThreshold": 1,
        "failureThreshold": 3,
    }
    assert ctr["readinessProbe"]["grpc"] == {"port": 9000, "service": ""}


def test_lifecycle_http_handlers_are_defaulted() -> None:
    lifecycle = {"preStop": {"httpGet": {"port": 80, "path": "/quit"}},
                 "postStart": {"exec": {"command": ["true"]}}}
    out = defaulted(POD, pod(one_container(lifecycle=lifecycle)))
    got = out["spec"]["containers"][0]["lifecycle"]
    assert got["preStop"]["httpGet"] == {"port": 80, "path": "/quit", "scheme": "HTTP"}
    assert got["postStart"] == {"exec": {"command": ["true"]}}


def test_env_field_ref_gets_api_version() -> None:
    env = [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
           {"name": "PLAIN", "value": "x"}]
    out = defaulted(POD, pod(one_container(env=env)))
    got = out["spec"]["containers"][0]["env"]
    assert got[0]["valueFrom"]["fieldRef"] == {"fieldPath": "spec.nodeName",
                                               "apiVersion": "v1"}
    assert got[1] == {"name": "PLAIN", "value": "x"}


def test_pod_requests_default_to_limits() -> None:
    resources = {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "100m"}}
    out = defaulted(POD, pod(one_container(resources=resources)))
    assert out["spec"]["containers"][0]["resources"] == {
        "limits": {"cpu": "500m", "memory": "128Mi"},
        "requests": {"cpu": "100m", "memory": "128Mi"},
    }


def test_pod_template_requests_are_not_defaulted() -> None:
    resources = {"limits": {"cpu": "500m"}}
    deploy = {"metadata": {"name": "d"}, "spec": {"template": {"spec": one_container(
        resources=resources)}}}
    out = defaulted(DEPLOYMENT, deploy)
    tspec = out["spec"]["template"]["spec"]
    assert tspec["containers"][0]["resources"] == {"limits": {"cpu": "500m"}}
    assert "enableServiceLinks" not in tspec
    assert "serviceAccountName" not in tspec and "priority" not in tspec


def test_host_network_ports_get_host_ports() -> None:
    spec = one_container(ports=[{"containerPort": 80}, {"containerPort": 53, "hostPort": 5353,
                                                        "protocol": "UDP"}])
    spec["hostNetwork"] = True
    out = defaulted(POD, pod(spec))
    assert out["spec"]["containers"][0]["ports"] == [
        {"containerPort": 80, "hostPort": 80, "protocol": "TCP"},
        {"containerPort": 53, "hostPort": 5353, "protocol": "UDP"},
    ]


def test_ephemeral_containers_are_defaulted() -> None:
    spec = one_container()
    spec["ephemeralContainers"] = [{"name": "debug", "image": "busybox"}]
    out = defaulted(POD, pod(spec))
    eph = out["spec"]["ephemeralContainers"][0]
    assert eph["imagePullPolicy"] == "Always"
    assert eph["terminationMessagePolicy"] == "File"


# -- volumes -------------------------------------------------------------------------------

def test_volume_defaults() -> None:
    volumes = [
        {"name": "bare"},
        {"name": "cm", "configMap": {"name": "c"}},
        {"name": "sec", "secret": {"secretName": "s", "defaultMode": 0o400}},
        {"name": "host", "hostPath": {"path": "/data"}},
        {"name": "down", "downwardAPI": {"items": [
            {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
        {"name": "proj", "projected": {"sources": [
            {"serviceAccountToken": {"path": "token"}},
            {"downwardAPI": {"items": [{"path": "n",
                                        "fieldRef": {"fieldPath": "metadata.name"}}]}}]}},
        {"name": "scratch", "emptyDir": {}},
    ]
    out = defaulted(POD, pod({**one_container(), "volumes": volumes}))
    got = {v["name"]: v for v in out["spec"]["volumes"]}
    assert got["bare"] == {"name": "bare", "emptyDir": {}}
    assert got["cm"]["configMap"] == {"name": "c", "defaultMode": 420}
    assert got["sec"]["secret"] == {"secretName": "s", "defaultMode": 256}
    assert got["host"]["hostPath"] == {"path": "/data", "type": ""}
    assert got["down"]["downwardAPI"] == {"defaultMode": 420, "items": [
        {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels", "apiVersion": "v1"}}]}
    sources = got["proj"]["projected"]["sources"]
    assert got["proj"]["projected"]["defaultMode"] == 420
    assert sources[0]["serviceAccountToken"] == {"path": "token", "expirationSeconds": 3600}
    assert sources[1]["downwardAPI"]["items"][0]["fieldRef"]["apiVersion"] == "v1"
    assert got["scratch"] == {"name": "scratch", "emptyDir": {}}


# -- workloads -----------------------------------------------------------------------------

def test_deployment_recreate_has_no_rolling_update() -> None:
    out = defaulted(DEPLOYMENT, {"metadata": {"name": "d"},
                                 "spec": {"strategy": {"type": "Recreate"}, "replicas": 0}})
    assert out["spec"]["strategy"] == {"type": "Recreate"}
    assert out["spec"]["replicas"] == 0


def test_deployment_partial_rolling_update_keeps_what_is_set() -> None:
    spec = {"strategy": {"rollingUpdate": {"maxSurge": 1}}, "revisionHistoryLimit": 0}
    out = defaulted(DEPLOYMENT, {"metadata": {"name": "d"}, "spec": spec})
    assert out["spec"]["strategy"] == {
        "type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}}
    assert out["spec"]["revisionHistoryLimit"] == 0
    assert out["spec"]["progressDeadlineSeconds"] == 600


def test_replicaset_defaults() -> None:
    out = defaulted(REPLICASET, {"metadata": {"name": "r"},
                                 "spec": {"template": {"spec": one_container()}}})
    assert out["spec"]["replicas"] == 1
    assert out["spec"]["template"]["metadata"] == {"creationTimestamp": None}
    assert out["spec"]["template"]["spec"]["restartPolicy"] == "Always"
    assert out["status"] == {"replicas": 0}


def test_daemonset_defaults() -> None:
    out = defaulted(DAEMONSET, {"metadata": {"name": "ds"},
                                "spec": {"template": {"spec": one_container()}}})
    assert out["spec"]["updateStrategy"] == {
        "type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
    assert out["spec"]["revisionHistoryLimit"] == 10
    assert out["status"] == {"currentNumberScheduled": 0, "numberMisscheduled": 0,
                             "desiredNumberScheduled": 0, "numberReady": 0}
    on_delete = defaulted(DAEMONSET, {"metadata": {"name": "ds"},
                                      "spec": {"updateStrategy": {"type": "OnDelete"}}})
    assert on_delete["spec"]["updateStrategy"] == {"type": "OnDelete"}


# -- services, namespaces, secrets ---------------------------------------------------------

def svc(spec: JSON) -> JSON:
    return defaulted(SERVICE, {"metadata": {"name": "s"}, "spec": spec})


def test_cluster_ip_service_defaults() -> None:
    out = svc({"selector": {"app": "web"}, "ports": [{"port": 80}, {"port": 53,
                                                                  "targetPort": "dns",
                                                                  "protocol": "UDP"}]})
    assert out["spec"] == {
        "selector": {"app": "web"},
        "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80},
                  {"port": 53, "targetPort": "dns", "protocol": "UDP"}],
        "type": "ClusterIP", "sessionAffinity": "None", "internalTrafficPolicy": "Cluster",
        "ipFamilyPolicy": "SingleStack", "ipFamilies": ["IPv4"],
    }
    assert out["status"] == {"loadBalancer": {}}


def test_node_port_and_load_balancer_services() -> None:
    node_port = svc({"type": "NodePort", "ports": [{"port": 80}]})["spec"]
    assert node_port["externalTrafficPolicy"] == "Cluster"
    assert "allocateLoadBalancerNodePorts" not in node_port
    lb = svc({"type": "LoadBalancer", "ports": [{"port": 80}]})["spec"]
    assert lb["externalTrafficPolicy"] == "Cluster"
    assert lb["allocateLoadBalancerNodePorts"] is True
    external_ips = svc({"ports": [{"port": 80}], "externalIPs": ["192.0.2.1"]})["spec"]
    assert external_ips["externalTrafficPolicy"] == "Cluster"
    assert "externalTrafficPolicy" not in svc({"ports": [{"port": 80}]})["spec"]


def test_external_name_and_headless_services() -> None:
    ext = svc({"type": "ExternalName", "externalName": "example.com"})["spec"]
    assert "ipFamilies" not in ext and "ipFamilyPolicy" not in ext
    assert "internalTrafficPolicy" not in ext
    headless = svc({"clusterIP": "None", "ports": [{"port": 80}]})["spec"]
    assert headless["ipFamilyPolicy"] == "RequireDualStack"
    headless_sel = svc({"clusterIP": "None", "selector": {"a": "b"},
                        "ports": [{"port": 80}]})["spec"]
    assert headless_sel["ipFamilyPolicy"] == "SingleStack"


def test_session_affinity() -> None:
    client_ip = svc({"ports": [{"port": 80}], "sessionAffinity": "ClientIP"})["spec"]
    assert client_ip["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}
    kept = svc({"ports": [{"port": 80}], "sessionAffinity": "ClientIP",
                "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}}})["spec"]
    assert kept["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 60}}
    dropped = svc({"ports": [{"port": 80}],
                   "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}}})["spec"]
    assert "sessionAffinityConfig" not in dropped


def test_namespace_name_label_is_forced() -> None:
    out = defaulted(NAMESPACE, {"metadata": {"name": "team-a", "labels": {
        "kubernetes.io/metadata.name": "other", "tier": "x"}}})
    assert out["metadata"]["labels"] == {"kubernetes.io/metadata.name": "team-a", "tier": "x"}
    assert out["status"] == {"phase": "Active"}


def test_secret_type() -> None:
    assert defaulted(SECRET, {"metadata": {"name": "s"}})["type"] == "Opaque"
    tls = defaulted(SECRET, {"metadata": {"name": "s"}, "type": "kubernetes.io/tls"})
    assert tls["type"] == "kubernetes.io/tls"


@pytest.mark.parametrize("obj", [
    {"metadata": {"name": "p"}, "spec": "nonsense"},
    {"metadata": {"name": "p"}, "spec": {"containers": "x", "volumes": [1, None]}},
    {"metadata": {"name": "p"}, "spec": {"containers": [None, {"name": "c", "image": 7,
                                                               "ports": "x"}]}},
])
def test_malformed_objects_are_left_to_validation(obj: JSON) -> None:
    apply_defaults(POD, copy.deepcopy(obj))  # must not raise


# -- admission -----------------------------------------------------------------------------

def test_service_account_from_deprecated_field() -> None:
    out = defaulted(POD, pod({**one_container(), "serviceAccount": "builder"}))
    assert out["spec"]["serviceAccountName"] == "builder"
    assert out["spec"]["serviceAccount"] == "builder"


def test_mirror_pods_get_no_service_account() -> None:
    mirror = {"annotations": {"kubernetes.io/config.mirror": "abc"}}
    out = defaulted(POD, pod(one_container(), **mirror))
    assert "serviceAccountName" not in out["spec"]
    with pytest.raises(errors.StatusError) as exc:
        defaulted(POD, pod({**one_container(), "serviceAccountName": "x"}, **mirror))
    assert exc.value.code == 403
    assert exc.value.message == ('pods "p" is forbidden: a mirror pod may not reference '
                                 "service accounts")
    secret_vol = {**one_container(), "volumes": [{"name": "s", "secret": {"secretName": "s"}}]}
    with pytest.raises(errors.StatusError, match="may not reference secrets"):
        defaulted(POD, pod(secret_vol, **mirror))


def test_priority_classes() -> None:
    out = defaulted(POD, pod({**one_container(), "priorityClassName": "system-node-critical"}))
    assert out["spec"]["priority"] == 2000001000
    assert out["spec"]["preemptionPolicy"] == "PreemptLowerPriority"
    with pytest.raises(errors.StatusError) as exc:
        defaulted(POD, pod({**one_container(), "priorityClassName": "high"}))
    assert exc.value.message == 'pods "p" is forbidden: no PriorityClass with name high was found'
    with pytest.raises(errors.StatusError) as exc:
        defaulted(POD, pod({**one_container(), "priority": 5}))
    assert exc.value.message == (
        'pods "p" is forbidden: the integer value of priority (5) must not be provided in pod '
        "spec; priority admission controller computed 0 from the given PriorityClass name")
    with pytest.raises(errors.StatusError, match=r"PreemptionPolicy \(Never\) must not be"):
        defaulted(POD, pod({**one_container(), "preemptionPolicy": "Never"}))


def test_priority_is_kept_on_update() -> None:
    old = defaulted(POD, pod(one_container()))
    new = copy.deepcopy(old)
    del new["spec"]["priority"]
    admit_pod(new, old)
    assert new["spec"]["priority"] == 0
    assert new["spec"]["serviceAccountName"] == "default"


@pytest.mark.parametrize(("given", "added"), [
    ([], ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]),
    ([{"key": "node.kubernetes.io/not-ready", "operator": "Exists"}],
     ["node.kubernetes.io/unreachable"]),
    ([{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoSchedule"}],
     ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]),
    ([{"operator": "Exists"}], []),
    ([{"operator": "Exists", "effect": "NoExecute"}], []),
])
def test_default_toleration_seconds(given: list[JSON], added: list[str]) -> None:
    out = defaulted(POD, pod({**one_container(), "tolerations": given}))
    tolerations = out["spec"]["tolerations"]
    assert tolerations[:len(given)] == given
    assert [t["key"] for t in tolerations[len(given):]] == added
    for t in tolerations[len(given):]:
        assert t == {"key": t["key"], "operator": "Exists", "effect": "NoExecute",
                     "tolerationSeconds": 300}


# -- quantities ----------------------------------------------------------------------------

@pytest.mark.parametrize(("given", "shown"), [
    ("500m", "500m"), ("0.5", "500m"), ("1", "1"), (2, "2"), (0.25, "250m"),
    ("1000", "1k"), ("1500", "1500"), ("1.5k", "1500"), ("1000000", "1M"),
    ("1024Mi", "1Gi"), ("1.5Gi", "1536Mi"), ("0.5Gi", "512Mi"), ("1000Mi", "1000Mi"),
    ("2048Ki", "2Mi"), ("512Ki", "512Ki"), ("100Ki", "100Ki"), ("0.5Ki", "512"),
    ("128974848", "128974848"), ("129e6", "129e6"), ("12e3", "12e3"), ("1e3", "1e3"),
    ("0.0001", "1m"), ("100n", "1m"), ("1.0001", "1001m"), ("0", "0"),
    ("1.5x", "1.5x"),  # not a quantity: left for validation
])
def test_resource_quantities_are_rounded_and_canonical(given: Any, shown: str) -> None:
    out = defaulted(POD, pod(one_container(resources={"limits": {"memory": given}})))
    resources = out["spec"]["containers"][0]["resources"]
    assert resources["limits"]["memory"] == shown
    assert resources["requests"]["memory"] == shown


def test_empty_dir_size_limit_is_canonical() -> None:
    spec = {**one_container(), "volumes": [{"name": "v", "emptyDir": {"sizeLimit": "1024Mi"}}]}
    out = defaulted(POD, pod(spec))
    assert out["spec"]["volumes"][0]["emptyDir"] == {"sizeLimit": "1Gi"}
