"""Field selectors (``fieldSelector``), parsed and matched as kube-apiserver does.

Terms are ``a=b``, ``a==b`` or ``a!=b``, comma-joined, over the fields one kind makes
selectable (its strategy's ``field_selectors``, as the registries' ``GetAttrs`` expose
them). Parse errors are :func:`kubelite.api.errors.bad_request` with apimachinery's
messages. Parsed selectors are immutable and cheap to match: they run once per watch event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kubelite.api import errors
from kubelite.api._gofmt import go_quote
from kubelite.api.meta import JSON, dig

Getter = Callable[[JSON], str]
"""Reads one selectable field of an object as text (``GetAttrs``)."""
Fields = Mapping[str, Getter]
"""A kind's selectable fields by their labels."""


def field_path(*keys: str) -> Getter:
    """The text at ``keys`` (``""`` when unset; bools as ``true``/``false``)."""
    def get(obj: JSON) -> str:
        cur = dig(obj, *keys)
        if cur is None:
            return ""
        if isinstance(cur, bool):
            return "true" if cur else "false"
        return str(cur)
    return get


def bool_field(*keys: str) -> Getter:
    """As :func:`field_path`, ``false`` when unset."""
    inner = field_path(*keys)

    def get(obj: JSON) -> str:
        return inner(obj) or "false"
    return get


def first_of(*getters: Getter) -> Getter:
    """The first non-empty value of ``getters``."""
    def get(obj: JSON) -> str:
        for g in getters:
            v = g(obj)
            if v:
                return v
        return ""
    return get


META_FIELDS: dict[str, Getter] = {
    "metadata.name": field_path("metadata", "name"),
    "metadata.namespace": field_path("metadata", "namespace"),
}
NAME_ONLY_FIELDS: dict[str, Getter] = {"metadata.name": field_path("metadata", "name")}


def always_empty(_obj: JSON) -> str:
    """A field the API accepts but never fills."""
    return ""


def supported_fields(fields: Fields | None) -> list[str]:
    """The field labels a kind with ``fields`` accepts in a field selector."""
    return sorted(META_FIELDS if fields is None else fields)


@dataclass(frozen=True)
class FieldRequirement:
    """``field op value`` with op one of ``=``, ``==``, ``!=``."""

    field: str
    operator: str
    value: str

    def __str__(self) -> str:
        escaped = (self.value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\="))
        return f"{self.field}{self.operator}{escaped}"


class FieldSelector:
    """A parsed field selector bound to one resource's field set (AND of terms)."""

    __slots__ = ("_checks", "requirements")

    def __init__(self, requirements: tuple[FieldRequirement, ...],
                 getters: Mapping[str, Getter]) -> None:
        self.requirements = requirements
        self._checks = tuple(
            (getters[r.field], r.value, r.operator == "!=") for r in requirements
        )

    @property
    def empty(self) -> bool:
        return not self.requirements

    def matches(self, obj: JSON) -> bool:
        """Whether ``obj`` (a JSON object of this resource) is selected."""
        for get, value, negate in self._checks:
            if (get(obj) == value) == negate:
                return False
        return True

    def requires_exact(self, field_label: str) -> str | None:
        """The value ``field_label`` must equal, if a ``=``/``==`` term pins it."""
        for r in self.requirements:
            if r.field == field_label and r.operator != "!=":
                return r.value
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)

    def __repr__(self) -> str:
        return f"FieldSelector({self!s})"


def _split_terms(selector: str) -> list[str]:
    """Split on commas not escaped by a backslash."""
    terms: list[str] = []
    start = 0
    escaped = False
    for i, ch in enumerate(selector):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ",":
            terms.append(selector[start:i])
            start = i + 1
    terms.append(selector[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    for i in range(len(term)):
        for op in ("!=", "==", "="):
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op):]
    return None


def _unescape(value: str) -> str:
    if "\\" not in value and "=" not in value and "," not in value:
        return value
    out: list[str] = []
    escaped = False
    for ch in value:
        if escaped:
            if ch not in "\\,=":
                raise errors.bad_request(
                    f"invalid field selector: invalid escape sequence: \\{ch}")
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in ",=":
            raise errors.bad_request(f"invalid field selector: unescaped character in value: {ch}")
        else:
            out.append(ch)
    if escaped:
        raise errors.bad_request("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def parse_field_selector(selector: str, fields: Fields | None,
                         aliases: Mapping[str, str] | None = None) -> FieldSelector:
    """Parse a ``fieldSelector`` query value against one kind's ``fields``.

    ``fields`` are the kind's selectable fields (None: a kind without its own set, which
    accepts ``metadata.name`` and ``metadata.namespace``); ``aliases`` maps old spellings
    to them (pods' ``spec.host``).

    Terms are ``field=value``, ``field==value`` or ``field!=value``, comma-joined; ``\\``
    escapes ``,``, ``=`` and ``\\`` in values. A field the resource does not support gives
    400 ``field label not supported: X`` (or, for kinds without their own field set,
    ``"X" is not a known field selector: only "metadata.name", "metadata.namespace"``).
    """
    getters = fields
    aliases = aliases or {}
    reqs: list[FieldRequirement] = []
    for part in sorted(_split_terms(selector)):
        if not part:
            continue
        split = _split_term(part)
        if split is None:
            raise errors.bad_request(f"invalid selector: '{selector}'; can't understand '{part}'")
        lhs, op, rhs = split
        reqs.append(FieldRequirement(lhs, op, _unescape(rhs)))
    bound: list[FieldRequirement] = []
    for r in reqs:
        name = aliases.get(r.field, r.field)
        if getters is None:
            if name not in META_FIELDS:
                raise errors.bad_request(
                    f"{go_quote(name)} is not a known field selector: only "
                    f'"metadata.name", "metadata.namespace"')
        elif name not in getters:
            raise errors.bad_request(f"field label not supported: {name}")
        bound.append(FieldRequirement(name, r.operator, r.value))
    return FieldSelector(tuple(bound), getters if getters is not None else META_FIELDS)
