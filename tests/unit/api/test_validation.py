"""Validation: the 422 causes kube-apiserver gives and kubectl prints."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from by_resource import check, invalid_status, validate

from kubelite.api import errors
from kubelite.api.errors import Cause
from kubelite.api.scheme import lookup

SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*"
    "[a-z0-9])?)*')"
)
LABEL = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1035 = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
    "an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
QNAME = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
    "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
    "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
CM_KEY = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
    "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
    "'[-._a-zA-Z0-9]+')"
)


def pod(name: str = "web", **spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"containers": [{"name": "web", "image": "nginx"}]}
    base.update(spec)
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default"}, "spec": base}


def triples(causes: list[Cause]) -> list[tuple[str, str, str]]:
    return [(c.reason, c.field, c.message) for c in causes]


def test_a_good_pod_is_valid() -> None:
    good = pod(restartPolicy="Never", dnsPolicy="ClusterFirst",
               volumes=[{"name": "data", "emptyDir": {}}],
               initContainers=[{"name": "init", "image": "busybox"}])
    good["spec"]["containers"][0].update(
        ports=[{"containerPort": 80, "name": "http", "protocol": "TCP"}],
        volumeMounts=[{"name": "data", "mountPath": "/data"}],
        env=[{"name": "A", "value": "1"}], imagePullPolicy="IfNotPresent")
    good["metadata"]["labels"] = {"app": "web", "example.com/tier": "front"}
    good["metadata"]["annotations"] = {"Example.com/Note": "anything at all"}
    assert validate("pods", good) == []


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (pod(containers=[]), [("FieldValueRequired", "spec.containers", "Required value")]),
        ({"metadata": {"name": "x", "namespace": "default"}, "spec": {}},
         [("FieldValueRequired", "spec.containers", "Required value")]),
        (pod("Bad_Name"), [("FieldValueInvalid", "metadata.name",
                            f'Invalid value: "Bad_Name": {SUBDOMAIN}')]),
        (pod("a" * 254), [("FieldValueInvalid", "metadata.name",
                           f'Invalid value: "{"a" * 254}": must be no more than 253 '
                           "characters")]),
        ({"metadata": {"namespace": "default"}, "spec": pod()["spec"]},
         [("FieldValueRequired", "metadata.name",
           "Required value: name or generateName is required")]),
        ({"metadata": {"generateName": "web-", "namespace": "default"},
          "spec": pod()["spec"]}, []),
        ({"metadata": {"generateName": "Web-", "namespace": "default"},
          "spec": pod()["spec"]},
         [("FieldValueInvalid", "metadata.generateName", f'Invalid value: "Web-": {SUBDOMAIN}')]),
        ({"metadata": {"name": "x"}, "spec": pod()["spec"]},
         [("FieldValueRequired", "metadata.namespace", "Required value")]),
        (pod(containers=[{"image": "nginx"}]),
         [("FieldValueRequired", "spec.containers[0].name", "Required value")]),
        (pod(containers=[{"name": "Web", "image": "nginx"}]),
         [("FieldValueInvalid", "spec.containers[0].name", f'Invalid value: "Web": {LABEL}')]),
        (pod(containers=[{"name": "web.1", "image": "nginx"}]),
         [("FieldValueInvalid", "spec.containers[0].name",
           'Invalid value: "web.1": must not contain dots')]),
        (pod(containers=[{"name": "web"}]),
         [("FieldValueRequired", "spec.containers[0].image", "Required value")]),
        (pod(containers=[{"name": "a", "image": "x"}, {"name": "a", "image": "y"}]),
         [("FieldValueDuplicate", "spec.containers[1].name", 'Duplicate value: "a"')]),
        (pod(initContainers=[{"name": "web", "image": "busybox"}]),
         [("FieldValueDuplicate", "spec.initContainers[0].name", 'Duplicate value: "web"')]),
        (pod(containers=[{"name": "web", "image": "nginx", "restartPolicy": "Always"}]),
         [("FieldValueForbidden", "spec.containers[0].restartPolicy",
           "Forbidden: may not be set for non-init containers")]),
        (pod(initContainers=[{"name": "sc", "image": "busybox", "restartPolicy": "Never"}]),
         [("FieldValueNotSupported", "spec.initContainers[0].restartPolicy",
           'Unsupported value: "Never": supported values: "Always"')]),
        (pod(restartPolicy="Sometimes"),
         [("FieldValueNotSupported", "spec.restartPolicy",
           'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", '
           '"Never"')]),
        (pod(dnsPolicy="Google"),
         [("FieldValueNotSupported", "spec.dnsPolicy",
           'Unsupported value: "Google": supported values: "ClusterFirstWithHostNet", '
           '"ClusterFirst", "Default", "None"')]),
        (pod(containers=[{"name": "web", "image": "nginx", "imagePullPolicy": "Sometimes"}]),
         [("FieldValueNotSupported", "spec.containers[0].imagePullPolicy",
           'Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", '
           '"Never"')]),
        (pod(containers=[{"name": "web", "image": "nginx",
                          "ports": [{"containerPort": 70000}, {"containerPort": 0},
                                    {"containerPort": 80, "hostPort": -1}]}]),
         [("FieldValueInvalid", "spec.containers[0].ports[0].containerPort",
           "Invalid value: 70000: must be between 1 and 65535, inclusive"),
          ("FieldValueRequired", "spec.containers[0].ports[1].containerPort", "Required value"),
          ("FieldValueInvalid", "spec.containers[0].ports[2].hostPort",
           "Invalid value: -1: must be between 1 and 65535, inclusive")]),
        (pod(containers=[{"name": "web", "image": "nginx",
                          "ports": [{"containerPort": 80, "protocol": "HTTP"}]}]),
         [("FieldValueNotSupported", "spec.containers[0].ports[0].protocol",
           'Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"')]),
        (pod(containers=[{"name": "web", "image": "nginx",
                          "ports": [{"containerPort": 80, "name": "http"},
                                    {"containerPort": 81, "name": "http"},
                                    {"containerPort": 82, "name": "HTTP_2"}]}]),
         [("FieldValueDuplicate", "spec.containers[0].ports[1].name", 'Duplicate value: "http"'),
          ("FieldValueInvalid", "spec.containers[0].ports[2].name",
           'Invalid value: "HTTP_2": must contain only alpha-numeric characters (a-z, 0-9), '
           "and hyphens (-)")]),
        (pod(volumes=[{"name": "a", "emptyDir": {}}, {"name": "a", "emptyDir": {}}]),
         [("FieldValueDuplicate", "spec.volumes[1].name", 'Duplicate value: "a"')]),
        (pod(volumes=[{"name": "a", "emptyDir": {}, "hostPath": {"path": "/x"}}]),
         [("FieldValueForbidden", "spec.volumes[0].hostPath",
           "Forbidden: may not specify more than 1 volume type")]),
        (pod(volumes=[{"name": "cfg", "configMap": {}}]),
         [("FieldValueRequired", "spec.volumes[0].configMap.name", "Required value")]),
        (pod(containers=[{"name": "web", "image": "nginx",
                          "volumeMounts": [{"name": "missing", "mountPath": "/m"}]}]),
         [("FieldValueNotFound", "spec.containers[0].volumeMounts[0].name",
           'Not found: "missing"')]),
        (pod(volumes=[{"name": "d", "emptyDir": {}}],
             containers=[{"name": "web", "image": "nginx",
                          "volumeMounts": [{"name": "d", "mountPath": "/m"},
                                           {"name": "d"}, {"name": "d", "mountPath": "/m"}]}]),
         [("FieldValueRequired", "spec.containers[0].volumeMounts[1].mountPath",
           "Required value"),
          ("FieldValueInvalid", "spec.containers[0].volumeMounts[2].mountPath",
           'Invalid value: "/m": must be unique')]),
        (pod(containers=[{"name": "web", "image": "nginx", "env": [{"value": "x"}]}]),
         [("FieldValueRequired", "spec.containers[0].env[0].name", "Required value")]),
        (pod(activeDeadlineSeconds=0),
         [("FieldValueInvalid", "spec.activeDeadlineSeconds",
           "Invalid value: 0: must be between 1 and 2147483647, inclusive")]),
        (pod(initContainers=[{"name": "side", "image": "x", "restartPolicy": "Never"}]),
         [("FieldValueNotSupported", "spec.initContainers[0].restartPolicy",
           'Unsupported value: "Never": supported values: "Always"')]),
    ],
)
def test_pod_validation(obj: dict[str, Any], expected: list[tuple[str, str, str]]) -> None:
    assert triples(validate("pods", obj)) == expected


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({"labels": {"app": "web_"}},
         [("FieldValueInvalid", "metadata.labels", f'Invalid value: "web_": {LABEL_VALUE}')]),
        ({"labels": {"bad key": "x"}},
         [("FieldValueInvalid", "metadata.labels", f'Invalid value: "bad key": {QNAME}')]),
        ({"labels": {"a" * 64: "x"}},
         [("FieldValueInvalid", "metadata.labels",
           f'Invalid value: "{"a" * 64}": name part must be no more than 63 characters')]),
        ({"labels": {"/x": "y"}},
         [("FieldValueInvalid", "metadata.labels",
           'Invalid value: "/x": prefix part must be non-empty')]),
        ({"labels": {"x": "v" * 64}},
         [("FieldValueInvalid", "metadata.labels",
           f'Invalid value: "{"v" * 64}": must be no more than 63 characters')]),
        ({"annotations": {"no way": "x"}},
         [("FieldValueInvalid", "metadata.annotations", f'Invalid value: "no way": {QNAME}')]),
        ({"annotations": {"big": "x" * (256 * 1024)}},
         [("FieldValueTooLong", "metadata.annotations",
           "Too long: may not be more than 262144 bytes")]),
        ({"namespace": "Prod"},
         [("FieldValueInvalid", "metadata.namespace", f'Invalid value: "Prod": {LABEL}')]),
        ({"ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs"}]},
         [("FieldValueInvalid", "metadata.ownerReferences[0].uid",
           'Invalid value: "": uid must not be empty')]),
    ],
)
def test_metadata_validation(meta: dict[str, Any],
                             expected: list[tuple[str, str, str]]) -> None:
    obj = {"metadata": {"name": "cfg", "namespace": "default", **meta}}
    assert triples(validate("configmaps", obj)) == expected


@pytest.mark.parametrize(
    ("resource", "name", "message"),
    [
        ("namespaces", "my.ns", 'Invalid value: "my.ns": must not contain dots'),
        ("namespaces", "My-ns", f'Invalid value: "My-ns": {LABEL}'),
        ("services", "1web", f'Invalid value: "1web": {DNS1035}'),
        ("nodes", "Node_1", f'Invalid value: "Node_1": {SUBDOMAIN}'),
        ("configmaps", "my.config", None),
        ("leases", "kube-scheduler", None),
    ],
)
def test_name_rules_per_kind(resource: str, name: str, message: str | None) -> None:
    res = next(r for r in (lookup("", "v1", resource),
                           lookup("coordination.k8s.io", "v1", resource)) if r)
    obj: dict[str, Any] = {"metadata": {"name": name}}
    if res.namespaced:
        obj["metadata"]["namespace"] = "default"
    if resource == "services":
        obj["spec"] = {"ports": [{"port": 80}]}
    causes = validate(res, obj)
    if message is None:
        assert causes == []
    else:
        assert triples(causes) == [("FieldValueInvalid", "metadata.name", message)]


def test_cluster_scoped_objects_may_not_carry_a_namespace() -> None:
    causes = validate("nodes", {"metadata": {"name": "n1", "namespace": "default"}})
    assert triples(causes) == [("FieldValueForbidden", "metadata.namespace",
                                "Forbidden: not allowed on this type")]


TEMPLATE = {"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx"}]}}


def workload(kind: str, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"selector": {"matchLabels": {"app": "web"}},
                            "template": copy.deepcopy(TEMPLATE)}
    body.update(spec)
    return {"apiVersion": "apps/v1", "kind": kind,
            "metadata": {"name": "web", "namespace": "default"}, "spec": body}


MISMATCH = ('Invalid value: map[string]string{"app":"web"}: `selector` does not match '
            "template `labels`")


@pytest.mark.parametrize("resource", ["deployments", "replicasets"])
@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({}, []),
        ({"replicas": 3}, []),
        ({"replicas": -1}, [("FieldValueInvalid", "spec.replicas",
                             "Invalid value: -1: must be greater than or equal to 0")]),
        ({"selector": None}, [("FieldValueRequired", "spec.selector", "Required value"),
                              ("FieldValueInvalid", "spec.template.metadata.labels", MISMATCH)]),
        ({"selector": {"matchLabels": {"app": "api"}}},
         [("FieldValueInvalid", "spec.template.metadata.labels", MISMATCH)]),
        ({"selector": {"matchExpressions": [{"key": "app", "operator": "In",
                                             "values": ["web", "api"]}]}}, []),
        ({"selector": {}},
         [("FieldValueInvalid", "spec.selector",
           "Invalid value: &LabelSelector{MatchLabels:map[string]string{},"
           "MatchExpressions:[]LabelSelectorRequirement{},}: "
           "empty selector is invalid for deployment")]),
        ({"selector": {"matchExpressions": [{"key": "app", "operator": "Is"}]}},
         [("FieldValueInvalid", "spec.selector.matchExpressions[0].operator",
           'Invalid value: "Is": not a valid selector operator'),
          ("FieldValueInvalid", "spec.selector",
           "Invalid value: &LabelSelector{MatchLabels:map[string]string{},"
           "MatchExpressions:[]LabelSelectorRequirement{LabelSelectorRequirement{Key:app,"
           "Operator:Is,Values:[],},},}: invalid label selector")]),
        ({"template": {"metadata": {"labels": {"app": "web"}},
                       "spec": {"containers": [], "restartPolicy": "Never"}}},
         [("FieldValueRequired", "spec.template.spec.containers", "Required value"),
          ("FieldValueNotSupported", "spec.template.spec.restartPolicy",
           'Unsupported value: "Never": supported values: "Always"')]),
    ],
)
def test_replicated_workloads(resource: str, spec: dict[str, Any],
                              expected: list[tuple[str, str, str]]) -> None:
    kind = "Deployment" if resource == "deployments" else "ReplicaSet"
    assert triples(validate(resource, workload(kind, **spec))) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({}, []),
        ({"selector": {"matchLabels": {"app": "other"}}},
         [("FieldValueInvalid", "spec.template.metadata.labels", MISMATCH)]),
        ({"selector": None},
         [("FieldValueInvalid", "spec.template.metadata.labels", MISMATCH)]),
        ({"template": {**TEMPLATE, "spec": {**TEMPLATE["spec"], "activeDeadlineSeconds": 5}}},
         [("FieldValueForbidden", "spec.template.spec.activeDeadlineSeconds",
           "Forbidden: activeDeadlineSeconds in DaemonSet is not Supported")]),
        ({"updateStrategy": {"type": "Sometimes"}},
         [("FieldValueNotSupported", "spec.updateStrategy.type",
           'Unsupported value: "Sometimes": supported values: "OnDelete", "RollingUpdate"')]),
    ],
)
def test_daemonsets(spec: dict[str, Any], expected: list[tuple[str, str, str]]) -> None:
    assert triples(validate("daemonsets", workload("DaemonSet", **spec))) == expected


def test_workload_selector_is_immutable() -> None:
    old = workload("Deployment")
    new = workload("Deployment", selector={"matchLabels": {"app": "web", "v": "2"}})
    new["spec"]["template"]["metadata"]["labels"]["v"] = "2"
    causes = validate("deployments", new, old)
    assert [(c.reason, c.field) for c in causes] == [("FieldValueInvalid", "spec.selector")]
    assert causes[0].message.endswith(": field is immutable")
    assert validate("deployments", workload("Deployment", replicas=5), old) == []


def test_pod_updates_may_only_change_images() -> None:
    old = pod(restartPolicy="Always")
    new_image = copy.deepcopy(old)
    new_image["spec"]["containers"][0]["image"] = "nginx:2"
    assert validate("pods", new_image, old) == []
    changed = copy.deepcopy(old)
    changed["spec"]["restartPolicy"] = "Never"
    causes = validate("pods", changed, old)
    assert [(c.reason, c.field) for c in causes] == [("FieldValueForbidden", "spec")]
    assert causes[0].message.startswith(
        "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
        "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
        "(allow it to be set to 1 if it was previously negative)\n")
    assert "spec.restartPolicy" in causes[0].message
    tolerated = copy.deepcopy(old)
    tolerated["spec"]["tolerations"] = [{"key": "k", "operator": "Exists"}]
    assert validate("pods", tolerated, old) == []
    # status writes never trip the spec rule
    assert validate("pods", changed, old, subresource="status") == []


def test_metadata_is_immutable_on_update() -> None:
    old = {"metadata": {"name": "c", "namespace": "default", "uid": "u1"}}
    new = {"metadata": {"name": "c", "namespace": "default", "uid": "u2"}}
    assert triples(validate("configmaps", new, old)) == [
        ("FieldValueInvalid", "metadata.uid", 'Invalid value: "u2": field is immutable')]


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"data": {"ok.key_1-x": "v"}, "binaryData": {"bin": "AAEC"}}, []),
        ({"data": {"bad/key": "v"}},
         [("FieldValueInvalid", "data[bad/key]", f'Invalid value: "bad/key": {CM_KEY}')]),
        ({"data": {"..x": "v"}},
         [("FieldValueInvalid", "data[..x]", "Invalid value: \"..x\": must not start with '..'")]),
        ({"data": {"a": "1"}, "binaryData": {"a": "AA=="}},
         [("FieldValueInvalid", "data[a]",
           'Invalid value: "a": duplicate of key present in binaryData')]),
        ({"data": {"big": "x" * (1024 * 1024 + 1)}},
         [("FieldValueTooLong", "", "Too long: may not be more than 1048576 bytes")]),
    ],
)
def test_configmaps(obj: dict[str, Any], expected: list[tuple[str, str, str]]) -> None:
    full = {"metadata": {"name": "cfg", "namespace": "default"}, **obj}
    assert triples(validate("configmaps", full)) == expected


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"type": "Opaque", "data": {"password": "cGFzcw=="}}, []),
        ({"stringData": {"bad key": "x"}},
         [("FieldValueInvalid", "data[bad key]", f'Invalid value: "bad key": {CM_KEY}')]),
        ({"type": "kubernetes.io/tls", "data": {"tls.crt": "QQ=="}},
         [("FieldValueRequired", "data[tls.key]", "Required value")]),
        ({"type": "kubernetes.io/dockerconfigjson", "data": {}},
         [("FieldValueRequired", "data[.dockerconfigjson]", "Required value")]),
        ({"type": "kubernetes.io/basic-auth", "data": {}},
         [("FieldValueRequired", "data[username]", "Required value"),
          ("FieldValueRequired", "data[password]", "Required value")]),
        ({"type": "kubernetes.io/service-account-token"},
         [("FieldValueRequired",
           "metadata.annotations[kubernetes.io/service-account.name]", "Required value")]),
    ],
)
def test_secrets(obj: dict[str, Any], expected: list[tuple[str, str, str]]) -> None:
    full = {"metadata": {"name": "s", "namespace": "default"}, **obj}
    assert triples(validate("secrets", full)) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"ports": [{"port": 80, "targetPort": 8080}], "selector": {"app": "web"}}, []),
        ({"clusterIP": "None"}, []),
        ({}, [("FieldValueRequired", "spec.ports", "Required value")]),
        ({"type": "ExternalName", "externalName": "example.com"}, []),
        ({"type": "Magic", "ports": [{"port": 80}]},
         [("FieldValueNotSupported", "spec.type",
           'Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", '
           '"LoadBalancer", "NodePort"')]),
        ({"ports": [{"port": 80}, {"port": 0, "name": "b"}]},
         [("FieldValueRequired", "spec.ports[0].name", "Required value"),
          ("FieldValueInvalid", "spec.ports[1].port",
           "Invalid value: 0: must be between 1 and 65535, inclusive")]),
    ],
)
def test_services(spec: dict[str, Any], expected: list[tuple[str, str, str]]) -> None:
    svc = {"metadata": {"name": "web", "namespace": "default"}, "spec": spec}
    assert triples(validate("services", svc)) == expected


def test_kubectl_message_for_a_pod_without_containers() -> None:
    res = lookup("", "v1", "pods")
    assert res is not None
    obj = pod("x", containers=[])
    err = invalid_status(res, obj, validate(res, obj))
    assert err.code == 422
    assert err.message == 'Pod "x" is invalid: spec.containers: Required value'
    status = err.status()
    assert status["reason"] == "Invalid"
    assert status["details"] == {
        "name": "x", "kind": "Pod",
        "causes": [{"reason": "FieldValueRequired", "message": "Required value",
                    "field": "spec.containers"}]}


def test_several_causes_are_bracketed_and_group_qualified() -> None:
    res = lookup("apps", "v1", "deployments")
    assert res is not None
    obj = workload("Deployment", selector=None)
    with pytest.raises(errors.StatusError) as info:
        check(res, obj)
    assert info.value.message == (
        'Deployment.apps "web" is invalid: [spec.selector: Required value, '
        f"spec.template.metadata.labels: {MISMATCH}]")
    assert info.value.status()["details"]["group"] == "apps"


def test_check_passes_valid_objects() -> None:
    check("pods", pod())


def test_immutable_configmaps_and_secrets_keep_their_data() -> None:
    meta = {"name": "c", "namespace": "default"}
    old = {"metadata": meta, "immutable": True, "data": {"a": "1"}}
    assert validate("configmaps", copy.deepcopy(old), old) == []
    changed = {"metadata": meta, "immutable": True, "data": {"a": "2"}}
    assert triples(validate("configmaps", changed, old)) == [
        ("FieldValueForbidden", "data", "Forbidden: field is immutable when `immutable` is set")]
    unlocked = {"metadata": meta, "data": {"a": "1"}}
    assert triples(validate("configmaps", unlocked, old)) == [
        ("FieldValueForbidden", "immutable",
         "Forbidden: field is immutable when `immutable` is set")]
    secret = {"metadata": meta, "immutable": True, "data": {"p": "eA=="}}
    same_via_string_data = {"metadata": meta, "immutable": True, "stringData": {"p": "x"}}
    assert validate("secrets", same_via_string_data, secret) == []


def test_secret_type_is_immutable() -> None:
    meta = {"name": "s", "namespace": "default"}
    old = {"metadata": meta, "data": {"tls.crt": "QQ==", "tls.key": "QQ=="}}
    new = {**old, "type": "kubernetes.io/tls"}
    assert triples(validate("secrets", new, old)) == [
        ("FieldValueInvalid", "type", 'Invalid value: "kubernetes.io/tls": field is immutable')]


EVENT_META = {"name": "web.17a", "namespace": "default"}


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"},
          "reason": "Pulled", "message": "ok"}, []),
        ({"involvedObject": {"kind": "Node", "name": "n1"}, "reason": "Starting"}, []),
        ({"involvedObject": {"kind": "Pod", "name": "web", "namespace": "other"}},
         [("FieldValueInvalid", "involvedObject.namespace",
           'Invalid value: "other": does not match event.namespace')]),
        ({"involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"},
          "eventTime": "2026-11-25T10:00:00.000000Z", "reason": "Pulled",
          "reportingComponent": "kubelet", "reportingInstance": "n1", "action": "Pull"}, []),
        ({"involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"},
          "eventTime": "2026-11-25T10:00:00.000000Z"},
         [("FieldValueRequired", "reportingComponent", "Required value"),
          ("FieldValueInvalid", "reportingComponent",
           'Invalid value: "": name part must be non-empty'),
          ("FieldValueInvalid", "reportingComponent", f'Invalid value: "": {QNAME}'),
          ("FieldValueRequired", "reportingInstance", "Required value"),
          ("FieldValueRequired", "action", "Required value"),
          ("FieldValueRequired", "reason", "Required value")]),
        ({"regarding": {"kind": "Pod", "name": "web", "namespace": "default"},
          "eventTime": "2026-11-25T10:00:00.000000Z", "reason": "Pulled", "note": "ok",
          "reportingController": "kubelet", "reportingInstance": "n1", "action": "Pull"}, []),
    ],
)
def test_events(event: dict[str, Any], expected: list[tuple[str, str, str]]) -> None:
    assert triples(validate("events", {"metadata": EVENT_META, **event})) == expected
