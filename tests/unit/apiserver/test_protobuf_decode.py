"""Kubernetes protobuf bodies, as the real kubectl sends them, decode to the JSON it means."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubectl_capture import JSON, capture, dry_run_json

from kubelite.apiserver.protobuf.protobuf import ProtobufDecoder, ProtobufError, go_duration
from kubelite.apiserver.protobuf.protodesc import KubectlDescriptors

PROTOBUF = "application/vnd.kubernetes.protobuf"

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None,
                                reason="kubectl is not installed")


@pytest.fixture(scope="module")
def decoder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProtobufDecoder]:
    cache = tmp_path_factory.mktemp("proto") / "proto-descriptors.bin"
    yield ProtobufDecoder(KubectlDescriptors(cache).load())


async def posted_body(args: list[str], **kw: dict[str, object]) -> bytes:
    result = await capture(args, **kw)  # type: ignore[arg-type]
    assert result.posts, f"kubectl posted nothing: {result.stderr}"
    post = result.posts[-1]
    assert post.content_type == PROTOBUF
    assert post.body.startswith(b"k8s\x00")
    return post.body


CREATE_COMMANDS = [
    ["create", "namespace", "foo"],
    ["create", "configmap", "cfg", "--from-literal=a=b", "--from-literal=c=d"],
    ["create", "secret", "generic", "s", "--from-literal=p=q", "--type=Opaque"],
    ["create", "secret", "docker-registry", "d", "--docker-username=u",
     "--docker-password=p"],
    ["create", "deployment", "web", "--image=nginx", "--replicas=2"],
    ["create", "deployment", "zero", "--image=nginx", "--replicas=0", "--port=80"],
    ["create", "serviceaccount", "sa1"],
    ["create", "service", "clusterip", "svc1", "--tcp=80:8080"],
    ["create", "service", "nodeport", "svc2", "--tcp=80:http", "--node-port=30080"],
    ["create", "service", "externalname", "ex", "--external-name=example.com"],
    ["create", "rolebinding", "rb", "--role=r", "--user=bob", "--group=devs"],
    ["create", "quota", "q", "--hard=pods=2,requests.cpu=500m,requests.memory=1Gi"],
    ["create", "priorityclass", "pc", "--value=100", "--preemption-policy=Never"],
    ["create", "ingress", "ing", "--rule=foo.com/bar=svc1:80"],
]


@pytest.mark.parametrize("args", CREATE_COMMANDS, ids=lambda a: "-".join(a[1:3]))
async def test_create_bodies_decode_to_what_kubectl_prints(
    decoder: ProtobufDecoder, args: list[str]
) -> None:
    body = await posted_body(args)
    assert decoder.decode(body) == dry_run_json(args)


async def test_secret_bytes_are_base64_and_deployment_zero_replicas_kept(
    decoder: ProtobufDecoder, tmp_path: Path,
) -> None:
    (tmp_path / "p").write_bytes(b"q\x00\xff")
    secret = decoder.decode(await posted_body(
        ["create", "secret", "generic", "s", f"--from-file={tmp_path / 'p'}"]))
    assert secret["data"] == {"p": "cQD/"}  # base64 of b"q\x00\xff"
    deploy = decoder.decode(await posted_body(
        ["create", "deployment", "zero", "--image=nginx", "--replicas=0"]))
    assert deploy["spec"]["replicas"] == 0  # a pointer set to zero is not dropped
    assert "minReadySeconds" not in deploy["spec"]  # a zero Go value is
    assert deploy["metadata"] == {"name": "zero", "creationTimestamp": None,
                                  "labels": {"app": "zero"}}


CRONJOB: JSON = {
    "apiVersion": "batch/v1", "kind": "CronJob",
    "metadata": {"name": "cj", "namespace": "default", "resourceVersion": "5",
                 "uid": "11111111-2222-3333-4444-555555555555",
                 "creationTimestamp": "2024-05-01T10:00:00Z"},
    "spec": {"schedule": "*/5 * * * *", "jobTemplate": {
        "metadata": {"labels": {"app": "x"}, "annotations": {"a": "b"}},
        "spec": {"backoffLimit": 0, "parallelism": 1, "activeDeadlineSeconds": 600,
                 "template": {"metadata": {"labels": {"app": "x"}}, "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "terminationGracePeriodSeconds": 0,
            "hostNetwork": False,
            "securityContext": {"runAsUser": 0, "fsGroup": 2000,
                                "sysctls": [{"name": "net.ipv4.ip_forward", "value": "1"}]},
            "nodeSelector": {"disk": "ssd"},
            "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoExecute",
                             "tolerationSeconds": 0}],
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [
                    {"key": "zone", "operator": "In", "values": ["a", "b"]}]}]}}},
            "volumes": [
                {"name": "cfg", "configMap": {"name": "cm1", "defaultMode": 420,
                                              "optional": False,
                                              "items": [{"key": "k", "path": "p"}]}},
                {"name": "sec", "secret": {"secretName": "s1"}},
                {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
                {"name": "proj", "projected": {"sources": [
                    {"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}},
                    {"downwardAPI": {"items": [{"path": "labels", "fieldRef": {
                        "fieldPath": "metadata.labels"}}]}}]}},
            ],
            "initContainers": [{"name": "init", "image": "busybox",
                                "command": ["sh", "-c", "echo hi"],
                                "restartPolicy": "Always"}],
            "containers": [{
                "name": "main", "image": "nginx:1.25", "imagePullPolicy": "IfNotPresent",
                "args": ["--x=1"], "workingDir": "/w", "stdin": True, "tty": False,
                "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"},
                          {"containerPort": 53, "protocol": "UDP", "hostPort": 5353}],
                "env": [
                    {"name": "A", "value": "1"},
                    {"name": "EMPTY", "value": ""},
                    {"name": "B", "valueFrom": {"configMapKeyRef": {
                        "name": "cm1", "key": "k", "optional": True}}},
                    {"name": "D", "valueFrom": {"fieldRef": {
                        "apiVersion": "v1", "fieldPath": "status.podIP"}}},
                    {"name": "E", "valueFrom": {"resourceFieldRef": {
                        "containerName": "main", "resource": "limits.memory",
                        "divisor": "1Mi"}}},
                ],
                "envFrom": [{"prefix": "P_", "configMapRef": {"name": "cm1"}},
                            {"secretRef": {"name": "s1", "optional": False}}],
                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"},
                              "limits": {"cpu": "1", "memory": "128Mi"}},
                "volumeMounts": [{"name": "cfg", "mountPath": "/etc/cfg", "readOnly": True}],
                "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http",
                                              "scheme": "HTTP",
                                              "httpHeaders": [{"name": "X", "value": "y"}]},
                                  "initialDelaySeconds": 3, "failureThreshold": 3},
                "readinessProbe": {"tcpSocket": {"port": 8080}, "timeoutSeconds": 0},
                "startupProbe": {"exec": {"command": ["cat", "/tmp/ok"]}},
                "lifecycle": {"preStop": {"sleep": {"seconds": 5}},
                              "postStart": {"exec": {"command": ["true"]}}},
                "securityContext": {"runAsNonRoot": False, "readOnlyRootFilesystem": True,
                                    "allowPrivilegeEscalation": False,
                                    "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]},
                                    "seccompProfile": {"type": "RuntimeDefault"}},
            }],
        }}},
    }},
}

BATCH = {"batch/v1": [
    {"name": "cronjobs", "singularName": "cronjob", "namespaced": True, "kind": "CronJob",
     "verbs": ["create", "get", "list"]},
    {"name": "jobs", "singularName": "job", "namespaced": True, "kind": "Job",
     "verbs": ["create", "get", "list"]},
], "v1": []}


async def test_rich_pod_template_round_trips_through_kubectl(
    decoder: ProtobufDecoder,
) -> None:
    """kubectl reads our JSON CronJob, posts a Job in protobuf; the template comes back."""
    body = await posted_body(
        ["create", "job", "j", "--from=cronjob/cj"],
        objects={"/apis/batch/v1/namespaces/default/cronjobs/cj": CRONJOB},
        resources=BATCH)
    job = decoder.decode(body)
    assert job["apiVersion"] == "batch/v1" and job["kind"] == "Job"
    assert job["metadata"]["ownerReferences"] == [{
        "apiVersion": "batch/v1", "kind": "CronJob", "name": "cj",
        "uid": "11111111-2222-3333-4444-555555555555", "controller": True}]
    # Go's JSON encoder writes the same object minus empty values and plus empty structs
    want = copy.deepcopy(CRONJOB["spec"]["jobTemplate"]["spec"])
    template = want["template"]
    template["metadata"]["creationTimestamp"] = None
    pod = template["spec"]
    del pod["hostNetwork"]
    main = pod["containers"][0]
    del main["tty"], main["env"][1]["value"], main["readinessProbe"]["timeoutSeconds"]
    pod["initContainers"][0]["resources"] = {}
    assert job["spec"] == want


def test_not_protobuf_or_unknown_kind_is_an_error(decoder: ProtobufDecoder) -> None:
    with pytest.raises(ProtobufError, match="does not appear to be a protobuf message"):
        decoder.decode(b'{"kind": "ConfigMap"}')
    # runtime.Unknown{typeMeta{apiVersion: "v1", kind: "Nope"}}
    unknown = b"k8s\x00" + b"\x0a\x0a\x0a\x02v1\x12\x04Nope"
    with pytest.raises(ProtobufError, match='no kind "Nope" is registered for version "v1"'):
        decoder.decode(unknown)
    with pytest.raises(ProtobufError):
        decoder.decode(b"k8s\x00\xff\xff\xff")
    assert decoder.message_type("apps/v1", "Deployment") is not None
    assert decoder.message_type("rbac.authorization.k8s.io/v1", "RoleBinding") is not None
    assert decoder.message_type("example.com/v1", "Widget") is None


@pytest.mark.parametrize(("ns", "text"), [
    (0, "0s"), (1, "1ns"), (1500, "1.5µs"), (1_500_000, "1.5ms"), (1_000_000_000, "1s"),
    (90_000_000_000, "1m30s"), (3_600_000_000_000, "1h0m0s"),
    (3_723_500_000_000, "1h2m3.5s"), (-2_000_000_000, "-2s"),
])
def test_go_duration(ns: int, text: str) -> None:
    assert go_duration(ns) == text


def test_descriptor_cache_is_written_under_the_given_path(tmp_path: Path) -> None:
    cache = tmp_path / "server" / "proto-descriptors.bin"
    first = KubectlDescriptors(cache).load()
    assert cache.exists() and cache.read_bytes().endswith(first)
    assert KubectlDescriptors(cache).load() == first
