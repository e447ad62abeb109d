"""Resource quantities (``100m``, ``128Mi``, ``1.5G``, ``2e3``) as numbers.

Contract: :func:`parse_quantity` returns an exact :class:`~fractions.Fraction` (the value
in base units: cores for cpu, bytes for memory) or raises ValueError for text
apimachinery would reject. :func:`milli_value` and :func:`value` round up, as
``Quantity.MilliValue()`` / ``Value()`` do.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

_SUFFIX = {
    "": Fraction(1), "n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000),
    "k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9), "T": Fraction(10**12),
    "P": Fraction(10**15), "E": Fraction(10**18),
    "Ki": Fraction(2**10), "Mi": Fraction(2**20), "Gi": Fraction(2**30), "Ti": Fraction(2**40),
    "Pi": Fraction(2**50), "Ei": Fraction(2**60),
}
_RE = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$")


def parse_quantity(text: str | int | float) -> Fraction:
    if isinstance(text, int):
        return Fraction(text)
    if isinstance(text, float):
        return Fraction(str(text))
    m = _RE.match(text.strip())
    if not m:
        raise ValueError(f"quantities must match the regular expression "
                         f"'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {text!r}")
    number = Fraction(m.group(1))
    if m.group(2):
        return number * Fraction(10) ** int(m.group(2)[1:])
    return number * _SUFFIX[m.group(3) or ""]


def value(text: str | int | float) -> int:
    """The value rounded up to an integer (bytes, pods)."""
    return math.ceil(parse_quantity(text))


def milli_value(text: str | int | float) -> int:
    """The value in thousandths rounded up (millicores)."""
    return math.ceil(parse_quantity(text) * 1000)
