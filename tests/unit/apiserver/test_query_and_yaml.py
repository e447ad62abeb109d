"""Query parameters as Go parses them, and YAML bodies with kube's bounds and value rules."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.api import errors
from kubelite.apiserver import query, yamlbody
from kubelite.testing import hostile


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("-5", -5), ("+7", 7),
                                             (str(2**63 - 1), 2**63 - 1)])
def test_parse_int_accepts_what_strconv_accepts(text: str, value: int) -> None:
    assert query.parse_int(text) == value


@pytest.mark.parametrize(("text", "why"), [
    ("abc", "invalid syntax"), ("nan", "invalid syntax"), ("inf", "invalid syntax"),
    ("1e309", "invalid syntax"), ("1.5", "invalid syntax"), ("", "invalid syntax"),
    (" 1", "invalid syntax"), ("0x10", "invalid syntax"), (str(2**63), "value out of range"),
])
def test_parse_int_refuses_with_strconv_text(text: str, why: str) -> None:
    with pytest.raises(errors.StatusError) as exc:
        query.parse_int(text)
    assert exc.value.code == 400
    assert exc.value.message == f'strconv.ParseInt: parsing "{text}": {why}'


@pytest.mark.parametrize("text", ["1", "t", "T", "TRUE", "true", "True"])
def test_go_true(text: str) -> None:
    assert query.parse_bool(text) is True


@pytest.mark.parametrize("text", ["0", "f", "F", "FALSE", "false", "False"])
def test_go_false(text: str) -> None:
    assert query.parse_bool(text) is False


@pytest.mark.parametrize("text", ["yes", "tRUE", "2", "on"])
def test_go_bool_refuses(text: str) -> None:
    with pytest.raises(errors.StatusError, match=r"strconv\.ParseBool"):
        query.parse_bool(text)


@pytest.mark.parametrize(("params", "code", "text"), [
    ({"resourceVersion": "abc"}, 400, 'invalid resource version: resourceVersion: Invalid '
     'value: "abc": strconv.ParseUint: parsing "abc": invalid syntax'),
    ({"resourceVersion": "-1"}, 400, "invalid syntax"),
    ({"resourceVersionMatch": "abc", "resourceVersion": "1"}, 422,
     'resourceVersionMatch: Unsupported value: "abc"'),
    ({"resourceVersionMatch": "Exact"}, 422, "forbidden unless resourceVersion is provided"),
    ({"resourceVersionMatch": "Exact", "resourceVersion": "0"}, 422,
     'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'),
    ({"resourceVersionMatch": "NotOlderThan", "resourceVersion": "5", "continue": "x"}, 422,
     "forbidden when continue is provided"),
])
def test_list_options(params: dict[str, str], code: int, text: str) -> None:
    with pytest.raises(errors.StatusError) as exc:
        query.resource_version(params)
        query.check_list_options(params, watch=False)
    assert exc.value.code == code and text in exc.value.message


@pytest.mark.parametrize(("body", "value"), [
    (b"a: 2001-12-14", {"a": "2001-12-14"}),
    (b"a: !!binary aGVsbG8=", {"a": "hello"}),
    (b"a: !!set {x, y}", {"a": {"x": None, "y": None}}),
    (b"1: a\n1.5: c", {"1": "a", "1.5": "c"}),
    (b"true: b", {"true": "b"}),
    (b"a: &x {b: 1}\nc: *x", {"a": {"b": 1}, "c": {"b": 1}}),
])
def test_yaml_values_as_kube_converts_them(body: bytes, value: Any) -> None:
    got = yamlbody.load(body, "")
    assert got == value
    if "c" in got and isinstance(got["c"], dict):
        assert got["c"] is not got["a"]  # aliases are copies


@pytest.mark.parametrize(("body", "text"), [
    (hostile.deep_yaml(30_000), "yaml: exceeded max depth of 100"),
    (hostile.deep_flow_yaml(100_000), "yaml: exceeded max depth of 100"),
    (hostile.alias_bomb(), "yaml: document contains excessive aliasing"),
    (b"a: &a [*a]", "recursive"),
    (b"a: .nan", "json: unsupported value: NaN"),
    (b"? [a]\n: b", "found unhashable key"),
    (b"a: !custom 1", "could not determine a constructor"),
    (b"a: !!binary //79", "not valid UTF-8"),
])
def test_yaml_refusals(body: bytes, text: str) -> None:
    with pytest.raises(errors.StatusError) as exc:
        yamlbody.load(body, "error converting YAML to JSON: ")
    assert exc.value.code == 400
    assert exc.value.message.startswith("error converting YAML to JSON: ")
    assert text in exc.value.message
