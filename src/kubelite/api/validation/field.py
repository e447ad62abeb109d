"""Field errors as kube-apiserver words them: ``field.ErrorList`` and value rendering.

Every validator appends to one :class:`Errors`; its causes keep the order in which the
checks ran, which is the order kube-apiserver reports them. Values are rendered as Go's
``fmt`` prints them in ``field.Error.ErrorBody``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kubelite.api._gofmt import go_quote, go_string_map
from kubelite.api.errors import Cause
from kubelite.api.meta import JSON
from kubelite.api.names import IS_NEGATIVE_MSG, is_dns1123_label

NameFn = Callable[[str, bool], list[str]]
"""A name check (``ValidateNameFunc``): messages for a name, or for a generateName prefix."""

REQUIRED = "FieldValueRequired"
INVALID = "FieldValueInvalid"
DUPLICATE = "FieldValueDuplicate"
NOT_SUPPORTED = "FieldValueNotSupported"
FORBIDDEN = "FieldValueForbidden"
TOO_LONG = "FieldValueTooLong"
NOT_FOUND = "FieldValueNotFound"


# -- value rendering (field.Error.ErrorBody) ---------------------------------------------

class GoValue:
    """A value already spelled the way Go's fmt would print it in an error."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _show(value: Any) -> str:
    if isinstance(value, GoValue):
        return value.text
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, Mapping):
        return go_string_map({str(k): str(v) for k, v in value.items()})
    if isinstance(value, list):
        return "[]string{" + ", ".join(go_quote(str(v)) for v in value) + "}"
    return str(value)


def format_label_selector_struct(selector: Mapping[str, Any] | None) -> str:
    """A ``*metav1.LabelSelector`` as its generated ``String()`` prints it in errors."""
    if selector is None:
        return "nil"
    labels = selector.get("matchLabels") or {}
    exprs = selector.get("matchExpressions") or []
    ml = "".join(f"{k}: {v}," for k, v in sorted(labels.items()))
    parts = []
    for e in exprs:
        vals = " ".join(str(v) for v in (e.get("values") or []))
        parts.append(f"LabelSelectorRequirement{{Key:{e.get('key', '')},"
                     f"Operator:{e.get('operator', '')},Values:[{vals}],}},")
    return (f"&LabelSelector{{MatchLabels:map[string]string{{{ml}}},"
            f"MatchExpressions:[]LabelSelectorRequirement{{{''.join(parts)}}},}}")


class Errors:
    """An ordered ``field.ErrorList`` being built."""

    def __init__(self) -> None:
        self.causes: list[Cause] = []

    def _add(self, reason: str, path: str, body: str, detail: str) -> None:
        self.causes.append(Cause(reason, f"{body}: {detail}" if detail else body, path))

    def required(self, path: str, detail: str = "") -> None:
        self._add(REQUIRED, path, "Required value", detail)

    def invalid(self, path: str, value: Any, detail: str) -> None:
        self._add(INVALID, path, f"Invalid value: {_show(value)}", detail)

    def duplicate(self, path: str, value: Any) -> None:
        self._add(DUPLICATE, path, f"Duplicate value: {_show(value)}", "")

    def not_found(self, path: str, value: Any) -> None:
        self._add(NOT_FOUND, path, f"Not found: {_show(value)}", "")

    def not_supported(self, path: str, value: Any, valid: list[str]) -> None:
        detail = ("supported values: " + ", ".join(go_quote(v) for v in valid)) if valid else ""
        self._add(NOT_SUPPORTED, path, f"Unsupported value: {_show(value)}", detail)

    def forbidden(self, path: str, detail: str) -> None:
        self._add(FORBIDDEN, path, "Forbidden", detail)

    def too_long(self, path: str, max_bytes: int) -> None:
        unit = "byte" if max_bytes == 1 else "bytes"
        self._add(TOO_LONG, path, "Too long", f"may not be more than {max_bytes} {unit}")




# -- typed reads of untrusted bodies ---------------------------------------------------

def dict_at(obj: Any, key: str) -> JSON:
    """``obj[key]`` when it is an object, else an empty one."""
    v = obj.get(key) if isinstance(obj, dict) else None
    return v if isinstance(v, dict) else {}


def list_at(obj: Any, key: str) -> list[Any]:
    """``obj[key]`` when it is a list, else an empty one."""
    v = obj.get(key) if isinstance(obj, dict) else None
    return v if isinstance(v, list) else []


def str_at(obj: Any, key: str) -> str:
    """``obj[key]`` as text (``""`` when unset)."""
    v = obj.get(key) if isinstance(obj, dict) else None
    return v if isinstance(v, str) else ("" if v is None else str(v))


def int_at(obj: Any, key: str) -> int | None:
    """``obj[key]`` when it is an integer (not a bool), else None."""
    v = obj.get(key) if isinstance(obj, dict) else None
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def nonnegative(value: int | None, path: str, errs: Errors) -> None:
    """``ValidateNonnegativeField``."""
    if value is not None and value < 0:
        errs.invalid(path, value, IS_NEGATIVE_MSG)


def dns1123_label(value: str, path: str, errs: Errors) -> None:
    """Each message of ``IsDNS1123Label`` as an invalid value at ``path``."""
    for msg in is_dns1123_label(value):
        errs.invalid(path, value, msg)
