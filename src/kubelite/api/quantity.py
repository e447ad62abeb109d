"""Resource quantities (``500m``, ``1.5Gi``, ``12e6``) in their canonical form.

A quantity keeps the family of its suffix: binary (``Ki`` .. ``Ei``), decimal SI (``n`` ..
``E``) or a decimal exponent (``e3``). The canonical string is the one kube-apiserver
writes back: the largest suffix of that family that leaves an integer mantissa
(``1024Mi`` is ``1Gi``, ``0.5`` is ``500m``, ``1500`` stays ``1500``); binary values that
are small or fractional are written as decimal SI.
"""

from __future__ import annotations

import functools
import math
import re
from fractions import Fraction

_PATTERN = re.compile(
    r"^(?P<sign>[+-]?)(?P<num>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$"
)
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15,
            "E": 18}
_DECIMAL_SUFFIX = {v: k for k, v in _DECIMAL.items()}


def parse(text: str) -> tuple[Fraction, str] | None:
    """The exact value and format (``BinarySI``, ``DecimalSI``, ``DecimalExponent``)."""
    match = _PATTERN.match(text)
    if match is None:
        return None
    value = Fraction(match.group("num"))
    suffix = match.group("suffix") or ""
    if suffix in _BINARY:
        value *= 1024 ** _BINARY[suffix]
        fmt = "BinarySI"
    elif suffix[:1] in ("e", "E"):
        value *= Fraction(10) ** int(suffix[1:])
        fmt = "DecimalExponent"
    else:
        value *= Fraction(10) ** _DECIMAL[suffix]
        fmt = "DecimalSI"
    if match.group("sign") == "-":
        value = -value
    return value, fmt


def _decimal(value: Fraction, exponent_form: bool) -> str | None:
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value == 0:
        return "0"
    for exp in range(18, -12, -3):
        mantissa = value / Fraction(10) ** exp
        if mantissa.denominator == 1:
            if exponent_form:
                suffix = f"e{exp}" if exp else ""
            else:
                suffix = _DECIMAL_SUFFIX.get(exp, "")
                if exp not in _DECIMAL_SUFFIX:
                    return None
            return f"{sign}{mantissa.numerator}{suffix}"
    return None


def canonical(text: str | int | float, *, round_to_milli: bool = False) -> str | None:
    """The canonical string of a quantity, or None when ``text`` is not one.

    ``round_to_milli`` rounds away from zero to a multiple of 1m first, as the defaulting
    of resource lists does.
    """
    if isinstance(text, bool):
        return None
    return _canonical(type(text).__name__, text, round_to_milli)


@functools.lru_cache(maxsize=4096)
def _canonical(kind: str, text: str | int | float, round_to_milli: bool) -> str | None:
    """:func:`canonical`, memoised (the same few quantities recur in every pod);
    ``kind`` keeps ``1`` and ``1.0`` apart."""
    parsed = parse(str(text)) if not isinstance(text, float) else parse(repr(text))
    if parsed is None:
        return None
    value, fmt = parsed
    if round_to_milli and (value * 1000).denominator != 1:
        scaled = value * 1000
        rounded = math.ceil(scaled) if scaled > 0 else math.floor(scaled)
        value = Fraction(rounded, 1000)
    if fmt == "BinarySI":
        if abs(value) < 1024 or value.denominator != 1:
            return _decimal(value, False)
        sign = "-" if value < 0 else ""
        n = abs(value.numerator)
        for power in range(6, 0, -1):
            if n % (1024 ** power) == 0:
                suffix = next(k for k, v in _BINARY.items() if v == power)
                return f"{sign}{n // 1024 ** power}{suffix}"
        return f"{sign}{n}"
    return _decimal(value, fmt == "DecimalExponent")


def canonicalize_list(resources: dict[str, object], *, round_to_milli: bool = True) -> None:
    """Rewrite each value of a resource list in canonical form (invalid ones are kept)."""
    for name, value in list(resources.items()):
        if isinstance(value, (str, int, float)):
            out = canonical(value, round_to_milli=round_to_milli)
            if out is not None:
                resources[name] = out


def parse_quantity(text: str | int | float) -> Fraction:
    """The exact value in base units (cores, bytes); ValueError for a malformed quantity."""
    if isinstance(text, int):
        return Fraction(text)
    if isinstance(text, float):
        return Fraction(str(text))
    parsed = parse(text.strip())
    if parsed is None:
        raise ValueError(f"quantities must match the regular expression "
                         f"'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {text!r}")
    return parsed[0]


def value(text: str | int | float) -> int:
    """The value rounded up to an integer (bytes, pods), as ``Quantity.Value()``."""
    return math.ceil(parse_quantity(text))


def milli_value(text: str | int | float) -> int:
    """The value in thousandths rounded up (millicores), as ``Quantity.MilliValue()``."""
    return math.ceil(parse_quantity(text) * 1000)
