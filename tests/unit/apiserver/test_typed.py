"""Typed decoding of built-in kinds: Go's texts for wrong types, ranges, base64, unknown and
null fields, depth."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.api import errors, nesting
from kubelite.apiserver import typed


def pod(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "i"}], **spec}}


@pytest.mark.parametrize(("obj", "kind", "text"), [
    ({"metadata": {"name": 5}}, "ConfigMap",
     "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.name of type "
     "string"),
    ({"metadata": {"labels": ["a"]}}, "ConfigMap",
     "Go struct field ObjectMeta.metadata.labels of type map[string]string"),
    ({"data": {"a": True}}, "ConfigMap",
     "cannot unmarshal bool into Go struct field ConfigMap.data of type string"),
    ({"metadata": "x"}, "ConfigMap", "Go struct field ConfigMap.metadata of type v1.ObjectMeta"),
    (pod(containers="abc"), "Pod", "PodSpec.spec.containers of type []v1.Container"),
    (pod(containers=[{"name": "c", "command": "ls"}]), "Pod",
     "Container.spec.containers.command of type []string"),
    (pod(terminationGracePeriodSeconds=2**70), "Pod",
     "cannot unmarshal number 1180591620717411303424 into Go struct field "
     "PodSpec.spec.terminationGracePeriodSeconds of type int64"),
    (pod(activeDeadlineSeconds=1.5), "Pod", "cannot unmarshal number 1.5 into"),
    (pod(hostNetwork="true"), "Pod", "cannot unmarshal string into Go struct field "
     "PodSpec.spec.hostNetwork of type bool"),
    (pod(containers=[{"name": "c", "resources": {"limits": {"cpu": "lots"}}}]), "Pod",
     "quantities must match the regular expression"),
    ({"data": {"a": "!!"}}, "Secret", "illegal base64 data at input byte 0"),
])
def test_wrong_types_are_400_with_go_text(obj: dict[str, Any], kind: str, text: str) -> None:
    with pytest.raises(errors.StatusError) as exc:
        typed.decode(obj, "", "v1", kind, prefix=True)
    assert exc.value.code == 400
    assert exc.value.message.startswith(f'{kind} in version "v1" cannot be handled as a {kind}: ')
    assert text in exc.value.message


def test_int32_out_of_range_is_422_with_the_field() -> None:
    obj = {"metadata": {"name": "d"}, "spec": {"replicas": 2**40}}
    with pytest.raises(errors.StatusError) as exc:
        typed.decode(obj, "apps", "v1", "Deployment")
    assert exc.value.code == 422
    assert exc.value.message == (
        'Deployment.apps "d" is invalid: spec.replicas: Invalid value: 1099511627776: must be '
        "between -2147483648 and 2147483647, inclusive")


def test_unknown_fields_are_dropped_and_named() -> None:
    obj = pod(foo=1)
    obj["spec"]["containers"][0]["bar"] = {"deep": [1]}
    out = typed.decode(obj, "", "v1", "Pod")
    assert out.unknown == ("spec.containers[0].bar", "spec.foo")
    assert "foo" not in out.obj["spec"] and "bar" not in out.obj["spec"]["containers"][0]
    assert obj["spec"]["foo"] == 1  # the input is not mutated
    with pytest.raises(errors.StatusError) as exc:
        typed.decode(obj, "", "v1", "Pod", strict=True)
    assert exc.value.message == ('strict decoding error: unknown field '
                                 '"spec.containers[0].bar", unknown field "spec.foo"')


def test_nulls_become_what_go_leaves() -> None:
    obj = {"metadata": {"name": "c", "labels": {"a": None}, "namespace": None},
           "data": {"k": None}}
    out = typed.decode(obj, "", "v1", "ConfigMap").obj
    assert out == {"metadata": {"name": "c", "labels": {"a": ""}}, "data": {"k": ""}}


def test_integral_floats_become_ints_and_int_or_string_takes_both() -> None:
    obj = {"metadata": {"name": "d"}, "spec": {"replicas": 3.0, "strategy": {
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}}}}
    out = typed.decode(obj, "apps", "v1", "Deployment").obj
    assert out["spec"]["replicas"] == 3 and isinstance(out["spec"]["replicas"], int)
    assert out["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": "25%", "maxUnavailable": 1}


def test_depth_is_bounded_in_known_and_schema_less_fields() -> None:
    deep: Any = "x"
    for _ in range(nesting.MAX_DEPTH + 5):
        deep = {"a": deep}
    fields = {"manager": "m", "fieldsV1": deep}
    with pytest.raises(errors.StatusError) as exc:
        typed.decode({"metadata": {"name": "c", "managedFields": [fields]}}, "", "v1",
                     "ConfigMap")
    assert "exceeded max depth of 100" in exc.value.message
    with pytest.raises(errors.StatusError):
        nesting.check_depth(deep)
    # an unknown field is dropped without being walked, however deep
    assert typed.decode({"metadata": {"name": "c"}, "x": deep}, "", "v1",
                        "ConfigMap").unknown == ("x",)


def test_kinds_without_a_schema_pass_unchanged() -> None:
    obj = {"spec": {"anything": [1, {"b": None}]}}
    assert typed.decode(obj, "example.com", "v1", "Widget").obj is obj
