"""Query parameters parsed as kube-apiserver parses them: Go's ``strconv`` for numbers and
booleans, and ``ListOptions`` validation for ``resourceVersion``/``resourceVersionMatch``.

Every malformed value is a 400 (``strconv.ParseInt: parsing "abc": invalid syntax``) or,
for invalid list options, the 422 kube answers; nothing here lets a Python conversion error
escape. Pure functions over a query mapping.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from kubelite.api import errors

_INT = re.compile(r"[+-]?[0-9]+")
_UINT = re.compile(r"[0-9]+")
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
RV_MATCHES = ("Exact", "NotOlderThan")


def parse_int(text: str, bits: int = 64) -> int:
    """``strconv.ParseInt(text, 10, bits)``, or a 400 with its error text."""
    if not _INT.fullmatch(text):
        raise errors.bad_request(f'strconv.ParseInt: parsing "{text}": invalid syntax')
    value = int(text)
    if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
        raise errors.bad_request(f'strconv.ParseInt: parsing "{text}": value out of range')
    return value


def parse_bool(text: str) -> bool:
    """``strconv.ParseBool(text)``, or a 400 with its error text."""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise errors.bad_request(f'strconv.ParseBool: parsing "{text}": invalid syntax')


def int_param(query: Mapping[str, str], name: str, bits: int = 64) -> int | None:
    """An integer parameter (None when absent or empty)."""
    text = query.get(name)
    return None if text is None or text == "" else parse_int(text, bits)


def flag(query: Mapping[str, str], name: str) -> bool:
    """A boolean parameter; absent or empty is false."""
    text = query.get(name)
    return False if text is None or text == "" else parse_bool(text)


def parse_resource_version(text: str) -> int:
    """A resourceVersion as the storage layer parses it (an unsigned integer)."""
    if not _UINT.fullmatch(text) or int(text) >= 2**64:
        reason = ("invalid syntax" if not _UINT.fullmatch(text) else "value out of range")
        raise errors.bad_request(
            f'invalid resource version: resourceVersion: Invalid value: "{text}": '
            f'strconv.ParseUint: parsing "{text}": {reason}')
    return int(text)


def resource_version(query: Mapping[str, str]) -> int | None:
    """The ``resourceVersion`` parameter (None when absent or empty; 400 when malformed)."""
    text = query.get("resourceVersion")
    return None if not text else parse_resource_version(text)


def check_list_options(query: Mapping[str, str], watch: bool) -> None:
    """``ValidateListOptions``: ``resourceVersionMatch`` against ``resourceVersion`` and
    ``continue``; a 422 ``ListOptions.meta.k8s.io "" is invalid`` as kube's."""
    match = query.get("resourceVersionMatch", "")
    if not match:
        return
    rv = query.get("resourceVersion", "")
    causes: list[errors.Cause] = []
    if match not in RV_MATCHES:
        causes.append(errors.Cause(
            "FieldValueNotSupported", f'Unsupported value: "{match}": supported values: '
            '"Exact", "NotOlderThan", ""', "resourceVersionMatch"))
    elif watch:
        causes.append(errors.Cause("FieldValueForbidden", "Forbidden: resourceVersionMatch "
                                   "is forbidden for watch", "resourceVersionMatch"))
    elif not rv:
        causes.append(errors.Cause("FieldValueForbidden", "Forbidden: resourceVersionMatch "
                                   "is forbidden unless resourceVersion is provided",
                                   "resourceVersionMatch"))
    elif query.get("continue"):
        causes.append(errors.Cause("FieldValueForbidden", "Forbidden: resourceVersionMatch "
                                   "is forbidden when continue is provided",
                                   "resourceVersionMatch"))
    elif match == "Exact" and rv == "0":
        causes.append(errors.Cause("FieldValueForbidden", 'Forbidden: resourceVersionMatch '
                                   '"exact" is forbidden for resourceVersion "0"',
                                   "resourceVersionMatch"))
    if causes:
        raise errors.invalid("ListOptions", "", causes, "meta.k8s.io")


def too_large_resource_version(asked: int, current: int) -> errors.StatusError:
    """kube's answer to a read at a resourceVersion the store has not reached (504)."""
    return errors.StatusError(
        504, "Timeout", f"Timeout: Too large resource version: {asked}, current: {current}",
        {"causes": [{"reason": "ResourceVersionTooLarge",
                     "message": "Too large resource version"}],
         "retryAfterSeconds": 1})
