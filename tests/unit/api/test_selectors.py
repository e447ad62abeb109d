"""Label and field selectors as kubectl users write them (-l, --field-selector)."""

from __future__ import annotations

from typing import Any

import pytest
from by_resource import parse_field_selector, supported_fields

from kubelite.api import errors
from kubelite.api.scheme import lookup
from kubelite.api.selectors import (
    format_label_selector,
    format_labels,
    label_selector_from_dict,
    parse_label_selector,
)

WEB = {"app": "web", "tier": "frontend", "version": "3"}
DB = {"app": "db", "tier": "backend"}
BARE: dict[str, str] = {}


@pytest.mark.parametrize(
    ("selector", "web", "db", "bare"),
    [
        ("", True, True, True),
        ("app=web", True, False, False),
        ("app==web", True, False, False),
        ("app!=web", False, True, True),
        ("app in (web,db)", True, True, False),
        ("app in (web, db)", True, True, False),
        ("app notin (web)", False, True, True),
        ("app", True, True, False),
        ("!app", False, False, True),
        ("  app  =  web ", True, False, False),
        ("app=web,tier=frontend", True, False, False),
        ("app=web,tier=backend", False, False, False),
        ("tier,!version", False, True, False),
        ("version>2", True, False, False),
        ("version<3", False, False, False),
        ("app=", False, False, False),
        ("app in ()", False, False, False),
        ("app notin ()", True, True, True),
        ("kubernetes.io/cluster-service=true", False, False, False),
        ("app in (in,notin)", False, False, False),
    ],
)
def test_label_selector_matching(selector: str, web: bool, db: bool, bare: bool) -> None:
    sel = parse_label_selector(selector)
    assert (sel.matches(WEB), sel.matches(DB), sel.matches(BARE)) == (web, db, bare)
    assert sel.matches(None) == bare


@pytest.mark.parametrize(
    ("selector", "canonical"),
    [
        ("b=2,a=1", "a=1,b=2"),
        ("x in (foo,,baz),y,z notin ()", "x in (,baz,foo),y,z notin ()"),
        ("!a", "!a"),
        ("a == b", "a==b"),
        ("a != b", "a!=b"),
        ("a>1", "a>1"),
    ],
)
def test_label_selector_string_form(selector: str, canonical: str) -> None:
    assert str(parse_label_selector(selector)) == canonical


QUALIFIED = (
    "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
    "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') "
    "with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
)


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("app in", "unable to parse requirement: found '' expected: '('"),
        ("app in (a", "unable to parse requirement: found '', expected: ',' or ')'"),
        ("app in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'"),
        ("app=web=x", "found '=', expected: ',' or 'end of string'"),
        ("app=web,", "found '', expected: identifier after ','"),
        (",app", "found ',', expected: !, identifier, or 'end of string'"),
        ("a!!b", "unable to parse requirement: found '!', expected: "
                 "in, notin, =, ==, !=, gt, lt"),
        ("a/b/c=x", f'unable to parse requirement: <nil>: Invalid value: "a/b/c": {QUALIFIED}'),
        ("app=a_", "unable to parse requirement: values[0][app]: Invalid value: \"a_\": a valid "
                   "label must be an empty string or consist of alphanumeric characters, '-', "
                   "'_' or '.', and must start and end with an alphanumeric character (e.g. "
                   "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
                   "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"),
        ("v>x", "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' "
                "operators, the value must be an integer"),
    ],
)
def test_label_selector_errors_are_bad_requests(selector: str, message: str) -> None:
    with pytest.raises(errors.StatusError) as info:
        parse_label_selector(selector)
    assert info.value.code == 400
    assert info.value.reason == "BadRequest"
    assert info.value.message == message


@pytest.mark.parametrize(
    ("selector", "web", "db", "bare"),
    [
        (None, False, False, False),
        ({}, True, True, True),
        ({"matchLabels": {"app": "web"}}, True, False, False),
        ({"matchExpressions": [{"key": "tier", "operator": "In",
                                "values": ["frontend", "backend"]}]}, True, True, False),
        ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]},
         False, True, True),
        ({"matchExpressions": [{"key": "version", "operator": "Exists"}]}, True, False, False),
        ({"matchExpressions": [{"key": "version", "operator": "DoesNotExist"}]},
         False, True, True),
        ({"matchLabels": {"app": "web"},
          "matchExpressions": [{"key": "tier", "operator": "In", "values": ["backend"]}]},
         False, False, False),
    ],
)
def test_label_selector_from_dict(
    selector: dict[str, Any] | None, web: bool, db: bool, bare: bool
) -> None:
    sel = label_selector_from_dict(selector)
    assert (sel.matches(WEB), sel.matches(DB), sel.matches(BARE)) == (web, db, bare)


def test_label_selector_from_dict_rejects_bad_operator() -> None:
    with pytest.raises(errors.StatusError) as info:
        label_selector_from_dict({"matchExpressions": [{"key": "a", "operator": "Maybe"}]})
    assert info.value.message == '"Maybe" is not a valid label selector operator'


@pytest.mark.parametrize(
    ("selector", "text"),
    [
        (None, ""),
        ({}, ""),
        ({"matchLabels": {"b": "2", "a": "1"}}, "a=1,b=2"),
        ({"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "dev"]}],
          "matchLabels": {"app": "web"}}, "app=web,env in (dev,prod)"),
        ({"matchLabels": {"bad key!": "x"}}, "<error>"),
    ],
)
def test_format_label_selector(selector: dict[str, Any] | None, text: str) -> None:
    assert format_label_selector(selector) == text


def test_format_labels() -> None:
    assert format_labels({"b": "2", "a": "1"}) == "a=1,b=2"
    assert format_labels({}) == "<none>"
    assert format_labels(None) == "<none>"


def test_requires_exact_pins_single_values() -> None:
    assert parse_label_selector("app=web,tier").requires_exact("app") == "web"
    assert parse_label_selector("app in (a,b)").requires_exact("app") is None
    assert parse_label_selector("app!=x").requires_exact("app") is None


def pod(name: str, ns: str = "default", node: str = "", phase: str = "Running",
        **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": ns},
        "spec": {"nodeName": node, "restartPolicy": "Always", **spec},
        "status": {"phase": phase, "podIP": "10.0.0.5",
                   "podIPs": [{"ip": "10.0.0.5"}]},
    }


@pytest.mark.parametrize(
    ("selector", "obj", "selected"),
    [
        ("", pod("a"), True),
        ("metadata.name=a", pod("a"), True),
        ("metadata.name==a", pod("a"), True),
        ("metadata.name=b", pod("a"), False),
        ("metadata.name!=b", pod("a"), True),
        ("metadata.namespace=kube-system", pod("a"), False),
        ("spec.nodeName=node-1", pod("a", node="node-1"), True),
        ("spec.nodeName=", pod("a"), True),  # unscheduled pods, as the scheduler asks
        ("spec.nodeName!=", pod("a"), False),
        ("spec.host=node-1", pod("a", node="node-1"), True),  # old clients' alias
        ("status.phase!=Succeeded,status.phase!=Failed", pod("a"), True),
        ("status.phase!=Succeeded,status.phase!=Failed", pod("a", phase="Failed"), False),
        ("status.podIP=10.0.0.5", pod("a"), True),
        ("spec.hostNetwork=false", pod("a"), True),
        ("spec.hostNetwork=true", pod("a", hostNetwork=True), True),
        ("spec.restartPolicy=Always", pod("a"), True),
        ("metadata.name=a,spec.nodeName=n", pod("a", node="n"), True),
        ("metadata.name=a,spec.nodeName=n", pod("a", node="m"), False),
    ],
)
def test_pod_field_selectors(selector: str, obj: dict[str, Any], selected: bool) -> None:
    assert parse_field_selector("pods", selector).matches(obj) is selected


EVENT = {
    "metadata": {"name": "web.1", "namespace": "default"},
    "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web",
                       "uid": "u-1", "apiVersion": "v1", "fieldPath": "spec.containers{web}"},
    "reason": "Pulled", "type": "Normal", "source": {"component": "kubelet"},
    "reportingComponent": "kubelet",
}
NEW_EVENT = {  # events.k8s.io/v1 shape
    "metadata": {"name": "web.2", "namespace": "default"},
    "regarding": {"kind": "Pod", "namespace": "default", "name": "web", "uid": "u-1"},
    "reason": "Started", "type": "Normal", "reportingController": "kubelet",
}


@pytest.mark.parametrize(
    ("selector", "old", "new"),
    [
        ("involvedObject.name=web,involvedObject.namespace=default,involvedObject.uid=u-1",
         True, True),
        ("involvedObject.kind=Pod", True, True),
        ("involvedObject.fieldPath=spec.containers{web}", True, False),
        ("reason=Pulled", True, False),
        ("type=Warning", False, False),
        ("source=kubelet", True, True),
        ("reportingComponent=kubelet", True, True),
    ],
)
def test_event_field_selectors(selector: str, old: bool, new: bool) -> None:
    sel = parse_field_selector("events", selector)
    assert (sel.matches(EVENT), sel.matches(NEW_EVENT)) == (old, new)


@pytest.mark.parametrize(
    ("resource", "selector", "obj", "selected"),
    [
        ("nodes", "spec.unschedulable=false", {"metadata": {"name": "n"}, "spec": {}}, True),
        ("nodes", "spec.unschedulable=true",
         {"metadata": {"name": "n"}, "spec": {"unschedulable": True}}, True),
        ("namespaces", "status.phase=Active",
         {"metadata": {"name": "x"}, "status": {"phase": "Active"}}, True),
        ("secrets", "type=kubernetes.io/tls",
         {"metadata": {"name": "s"}, "type": "kubernetes.io/tls"}, True),
        ("replicasets", "status.replicas=0", {"metadata": {"name": "r"}}, True),
        ("replicasets", "status.replicas=2",
         {"metadata": {"name": "r"}, "status": {"replicas": 2}}, True),
        ("configmaps", "metadata.name=c", {"metadata": {"name": "c"}}, True),
        ("services", "spec.type=ClusterIP",
         {"metadata": {"name": "s"}, "spec": {"type": "ClusterIP"}}, True),
    ],
)
def test_other_field_selectors(
    resource: str, selector: str, obj: dict[str, Any], selected: bool
) -> None:
    assert parse_field_selector(resource, selector).matches(obj) is selected


def test_field_selector_accepts_a_resource_object() -> None:
    res = lookup("", "v1", "pods")
    assert res is not None
    assert parse_field_selector(res, "spec.nodeName=n").matches(pod("a", node="n"))


@pytest.mark.parametrize(
    ("resource", "selector", "message"),
    [
        ("pods", "spec.foo=bar", "field label not supported: spec.foo"),
        ("pods", "status.phase=Running,aaa=b", "field label not supported: aaa"),
        ("nodes", "metadata.namespace=x", "field label not supported: metadata.namespace"),
        ("namespaces", "metadata.namespace=x", "field label not supported: metadata.namespace"),
        ("events", "message=x", "field label not supported: message"),
        ("configmaps", "data.x=1",
         '"data.x" is not a known field selector: only "metadata.name", "metadata.namespace"'),
        ("leases", "spec.holderIdentity=x",
         '"spec.holderIdentity" is not a known field selector: only "metadata.name", '
         '"metadata.namespace"'),
        ("pods", "metadata.name", "invalid selector: 'metadata.name'; "
                                  "can't understand 'metadata.name'"),
        ("pods", "metadata.name=a=b",
         "invalid field selector: unescaped character in value: ="),
        ("pods", "metadata.name=a\\b", "invalid field selector: invalid escape sequence: \\b"),
    ],
)
def test_field_selector_errors(resource: str, selector: str, message: str) -> None:
    with pytest.raises(errors.StatusError) as info:
        parse_field_selector(resource, selector)
    assert info.value.code == 400
    assert info.value.reason == "BadRequest"
    assert info.value.message == message


def test_field_selector_escapes() -> None:
    obj = {"metadata": {"name": "a,b=c"}}
    assert parse_field_selector("configmaps", "metadata.name=a\\,b\\=c").matches(obj)


def test_field_selector_exact_value_for_indexes() -> None:
    sel = parse_field_selector("pods", "spec.nodeName=n1,status.phase!=Failed")
    assert sel.requires_exact("spec.nodeName") == "n1"
    assert sel.requires_exact("status.phase") is None
    assert sel.requires_exact("metadata.name") is None


def test_supported_fields() -> None:
    assert "spec.nodeName" in supported_fields("pods")
    assert supported_fields("configmaps") == ["metadata.name", "metadata.namespace"]
    assert supported_fields("nodes") == ["metadata.name", "spec.unschedulable"]
