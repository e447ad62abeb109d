"""How Go's fmt prints values in Kubernetes messages (``%q`` and ``%#v`` of maps).

Error texts embed values this way; reproducing it keeps kubelite's messages identical.
"""

from __future__ import annotations

from collections.abc import Mapping

_ESCAPES = {
    "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
    "\v": "\\v", "\\": "\\\\", '"': '\\"',
}


def go_quote(s: str) -> str:
    """``strconv.Quote(s)``: double-quoted, Go escapes, printable Unicode kept."""
    out = ['"']
    for ch in s:
        esc = _ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def go_string_map(m: Mapping[str, str] | None) -> str:
    """``fmt.Sprintf("%#v", map[string]string)``: keys sorted, nil spelled out."""
    if m is None:
        return "map[string]string(nil)"
    items = ", ".join(f"{go_quote(k)}:{go_quote(str(v))}" for k, v in sorted(m.items()))
    return "map[string]string{" + items + "}"
