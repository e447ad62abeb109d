"""Label selectors, parsed and matched as kube-apiserver does.

- :func:`parse_label_selector` reads the ``labelSelector`` query string
  (``a=b``, ``a==b``, ``a!=b``, ``a in (x,y)``, ``a notin (x)``, ``a``, ``!a``, ``a>1``,
  ``a<1``, comma-joined); :func:`label_selector_from_dict` reads a ``metav1.LabelSelector``
  (``matchLabels``/``matchExpressions``) as controllers hold them.
- field selectors are in :mod:`kubelite.api.fieldselectors`.

Parse errors are :func:`kubelite.api.errors.bad_request` with apimachinery's messages.
Parsed selectors are immutable and cheap to match: they run once per watch event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubelite.api import errors
from kubelite.api._gofmt import go_quote
from kubelite.api.meta import JSON
from kubelite.api.names import is_qualified_name, is_valid_label_value

# selection.Operator spellings
IN = "in"
NOT_IN = "notin"
EQUALS = "="
DOUBLE_EQUALS = "=="
NOT_EQUALS = "!="
EXISTS = "exists"
DOES_NOT_EXIST = "!"
GREATER_THAN = "gt"
LESS_THAN = "lt"

_BINARY_OPERATORS = (IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS, GREATER_THAN, LESS_THAN)


# ---------------------------------------------------------------------------------------
# label selectors


@dataclass(frozen=True)
class Requirement:
    """One label requirement: ``key``, an operator, and its values (sorted, unique)."""

    key: str
    operator: str
    values: tuple[str, ...] = ()
    _set: frozenset[str] = field(default=frozenset(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_set", frozenset(self.values))

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.operator
        if op in (EQUALS, DOUBLE_EQUALS, IN):
            value = labels.get(self.key)
            return value is not None and value in self._set
        if op in (NOT_EQUALS, NOT_IN):
            value = labels.get(self.key)
            return value is None or value not in self._set
        if op == EXISTS:
            return self.key in labels
        if op == DOES_NOT_EXIST:
            return self.key not in labels
        # gt / lt: both sides must be integers
        value = labels.get(self.key)
        if value is None or len(self.values) != 1:
            return False
        try:
            have, want = int(value), int(self.values[0])
        except ValueError:
            return False
        return have > want if op == GREATER_THAN else have < want

    def __str__(self) -> str:
        op = self.operator
        if op == EXISTS:
            return self.key
        if op == DOES_NOT_EXIST:
            return "!" + self.key
        spelled = {EQUALS: "=", DOUBLE_EQUALS: "==", NOT_EQUALS: "!=", IN: " in ",
                   NOT_IN: " notin ", GREATER_THAN: ">", LESS_THAN: "<"}[op]
        vals = ",".join(sorted(self.values))
        if op in (IN, NOT_IN):
            return f"{self.key}{spelled}({vals})"
        return f"{self.key}{spelled}{vals}"


class LabelSelector:
    """A parsed label selector: all requirements must hold (AND).

    ``LabelSelector.everything()`` matches every object; ``LabelSelector.nothing()``
    matches none (a nil ``metav1.LabelSelector``).
    """

    __slots__ = ("_nothing", "requirements")

    def __init__(self, requirements: tuple[Requirement, ...] = (), nothing: bool = False) -> None:
        self.requirements = tuple(sorted(requirements, key=lambda r: r.key))
        self._nothing = nothing

    @classmethod
    def everything(cls) -> LabelSelector:
        return cls()

    @classmethod
    def nothing(cls) -> LabelSelector:
        return cls(nothing=True)

    @property
    def empty(self) -> bool:
        """True when the selector does not restrict anything (matches every object)."""
        return not self._nothing and not self.requirements

    @property
    def matches_nothing(self) -> bool:
        return self._nothing

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        """Whether an object with ``labels`` is selected (labels that are not a map, as a
        malformed stored object may have, are taken as none)."""
        if self._nothing:
            return False
        lbls = labels if isinstance(labels, Mapping) else {}
        for r in self.requirements:
            if not r.matches(lbls):
                return False
        return True

    def matches_object(self, obj: JSON) -> bool:
        """:meth:`matches` on ``obj.metadata.labels``."""
        return self.matches((obj.get("metadata") or {}).get("labels"))

    def requires_exact(self, key: str) -> str | None:
        """The single value ``key`` must have, if the selector pins one (for indexing)."""
        for r in self.requirements:
            if r.key == key:
                if r.operator in (EQUALS, DOUBLE_EQUALS, IN) and len(r.values) == 1:
                    return r.values[0]
                return None
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)

    def __repr__(self) -> str:
        return "LabelSelector(<nothing>)" if self._nothing else f"LabelSelector({self!s})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, LabelSelector) and self._nothing == other._nothing
                and self.requirements == other.requirements)

    def __hash__(self) -> int:
        return hash((self._nothing, self.requirements))


class _FieldError:
    """A field.Error rendered the way ``err.Error()`` prints it."""

    @staticmethod
    def invalid(path: str, value: object, detail: str) -> str:
        if isinstance(value, str):
            shown = go_quote(value)
        elif isinstance(value, list | tuple):
            shown = "[]string{" + ", ".join(go_quote(v) for v in value) + "}"
        else:
            shown = str(value)
        return f"{path}: Invalid value: {shown}: {detail}"


def _aggregate(msgs: list[str]) -> str:
    seen: list[str] = []
    for m in msgs:
        if m not in seen:
            seen.append(m)
    return seen[0] if len(seen) == 1 else "[" + ", ".join(seen) + "]"


def _key_error(key: str, path: str) -> str | None:
    msgs = is_qualified_name(key)
    return _FieldError.invalid(path, key, "; ".join(msgs)) if msgs else None


def new_requirement(key: str, operator: str, values: list[str]) -> Requirement:
    """``labels.NewRequirement``: validate and build; raises a 400 on invalid input."""
    errs: list[str] = []
    if (e := _key_error(key, "key")) is not None:
        errs.append(e)
    if operator in (IN, NOT_IN):
        if not values:
            errs.append(_FieldError.invalid(
                "values", values, "for 'in', 'notin' operators, values set can't be empty"))
    elif operator in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS):
        if len(values) != 1:
            errs.append(_FieldError.invalid(
                "values", values, "exact-match compatibility requires one single value"))
    elif operator in (EXISTS, DOES_NOT_EXIST):
        if values:
            errs.append(_FieldError.invalid(
                "values", values, "values set must be empty for exists and does not exist"))
    elif operator in (GREATER_THAN, LESS_THAN):
        if len(values) != 1:
            errs.append(_FieldError.invalid(
                "values", values, "for 'Gt', 'Lt' operators, exactly one value is required"))
        for i, v in enumerate(values):
            try:
                int(v)
            except ValueError:
                errs.append(_FieldError.invalid(
                    f"values[{i}]", v, "for 'Gt', 'Lt' operators, the value must be an integer"))
    else:
        supported = ", ".join(go_quote(o) for o in (*_BINARY_OPERATORS, EXISTS, DOES_NOT_EXIST))
        errs.append(f"operator: Unsupported value: {go_quote(operator)}: "
                    f"supported values: {supported}")
    for i, v in enumerate(values):
        msgs = is_valid_label_value(v)
        if msgs:
            errs.append(_FieldError.invalid(f"values[{i}][{key}]", v, "; ".join(msgs)))
    if errs:
        raise errors.bad_request(_aggregate(errs))
    return Requirement(key, operator, tuple(sorted(set(values))))


# -- the query-string parser (apimachinery labels.Parse) ----------------------------------

_T_ERROR, _T_EOS, _T_CPAR, _T_COMMA, _T_NOT, _T_DEQ, _T_EQ, _T_GT, _T_ID, _T_IN, _T_LT, \
    _T_NEQ, _T_NOTIN, _T_OPAR = range(14)

_STRING_TOKENS = {
    ")": _T_CPAR, ",": _T_COMMA, "!": _T_NOT, "==": _T_DEQ, "=": _T_EQ, ">": _T_GT,
    "in": _T_IN, "<": _T_LT, "!=": _T_NEQ, "notin": _T_NOTIN, "(": _T_OPAR,
}
_SPECIAL = frozenset("=!(),><")
_WHITESPACE = frozenset(" \t\r\n")


def _lex(s: str) -> list[tuple[int, str]]:
    items: list[tuple[int, str]] = []
    i, n = 0, len(s)
    while True:
        while i < n and s[i] in _WHITESPACE:
            i += 1
        if i >= n:
            items.append((_T_EOS, ""))
            return items
        if s[i] in _SPECIAL:
            buf = ""
            last: tuple[int, str] | None = None
            while i < n and s[i] in _SPECIAL:
                buf += s[i]
                tok = _STRING_TOKENS.get(buf)
                if tok is not None:
                    last = (tok, buf)
                    i += 1
                elif last is not None:
                    break
                else:
                    i += 1
            if last is None:
                items.append((_T_ERROR, f"error expected: keyword found '{buf}'"))
            else:
                items.append(last)
            continue
        start = i
        while i < n and s[i] not in _SPECIAL and s[i] not in _WHITESPACE:
            i += 1
        word = s[start:i]
        items.append((_STRING_TOKENS.get(word, _T_ID), word))


class _ParseError(Exception):
    pass


class _Parser:
    def __init__(self, selector: str) -> None:
        self.items = _lex(selector)
        self.pos = 0

    def _tok(self, at: int, values: bool) -> tuple[int, str]:
        tok, lit = self.items[at]
        if values and tok in (_T_IN, _T_NOTIN):
            tok = _T_ID
        return tok, lit

    def lookahead(self, values: bool = True) -> tuple[int, str]:
        return self._tok(self.pos, values)

    def consume(self, values: bool = True) -> tuple[int, str]:
        self.pos += 1
        return self._tok(self.pos - 1, values)

    def parse(self) -> list[Requirement]:
        reqs: list[Requirement] = []
        while True:
            tok, lit = self.lookahead()
            if tok in (_T_ID, _T_NOT):
                try:
                    reqs.append(self.requirement())
                except _ParseError as e:
                    raise _ParseError(f"unable to parse requirement: {e}") from None
                t, lit2 = self.consume()
                if t == _T_EOS:
                    return reqs
                if t == _T_COMMA:
                    t2, l2 = self.lookahead()
                    if t2 not in (_T_ID, _T_NOT):
                        raise _ParseError(f"found '{l2}', expected: identifier after ','")
                else:
                    raise _ParseError(f"found '{lit2}', expected: ',' or 'end of string'")
            elif tok == _T_EOS:
                return reqs
            else:
                raise _ParseError(f"found '{lit}', expected: !, identifier, or 'end of string'")

    def requirement(self) -> Requirement:
        key, op = self.key_and_operator()
        if op in (EXISTS, DOES_NOT_EXIST):
            return self._new(key, op, [])
        op = self.operator()
        values = self.values() if op in (IN, NOT_IN) else self.exact_value()
        return self._new(key, op, sorted(values))

    @staticmethod
    def _new(key: str, op: str, values: list[str]) -> Requirement:
        try:
            return new_requirement(key, op, values)
        except errors.StatusError as e:
            raise _ParseError(e.message) from None

    def key_and_operator(self) -> tuple[str, str]:
        op = ""
        tok, lit = self.consume()
        if tok == _T_NOT:
            op = DOES_NOT_EXIST
            tok, lit = self.consume()
        if tok != _T_ID:
            raise _ParseError(f"found '{lit}', expected: identifier")
        if (e := _key_error(lit, "<nil>")) is not None:
            raise _ParseError(e)
        t, _ = self.lookahead()
        if t in (_T_EOS, _T_COMMA) and op != DOES_NOT_EXIST:
            op = EXISTS
        return lit, op

    def operator(self) -> str:
        tok, lit = self.consume(values=False)
        ops = {_T_IN: IN, _T_EQ: EQUALS, _T_DEQ: DOUBLE_EQUALS, _T_GT: GREATER_THAN,
               _T_LT: LESS_THAN, _T_NOTIN: NOT_IN, _T_NEQ: NOT_EQUALS}
        if tok not in ops:
            raise _ParseError(f"found '{lit}', expected: {', '.join(_BINARY_OPERATORS)}")
        return ops[tok]

    def values(self) -> set[str]:
        tok, lit = self.consume()
        if tok != _T_OPAR:
            raise _ParseError(f"found '{lit}' expected: '('")
        tok, lit = self.lookahead()
        if tok in (_T_ID, _T_COMMA):
            s = self.identifiers()
            tok2, _ = self.consume()
            if tok2 != _T_CPAR:
                raise _ParseError(f"found '{lit}', expected: ')'")
            return s
        if tok == _T_CPAR:
            self.consume()
            return {""}
        raise _ParseError(f"found '{lit}', expected: ',', ')' or identifier")

    def identifiers(self) -> set[str]:
        s: set[str] = set()
        while True:
            tok, lit = self.consume()
            if tok == _T_ID:
                s.add(lit)
                tok2, lit2 = self.lookahead()
                if tok2 == _T_COMMA:
                    continue
                if tok2 == _T_CPAR:
                    return s
                raise _ParseError(f"found '{lit2}', expected: ',' or ')'")
            if tok == _T_COMMA:
                if not s:
                    s.add("")
                tok2, _ = self.lookahead()
                if tok2 == _T_CPAR:
                    s.add("")
                    return s
                if tok2 == _T_COMMA:
                    self.consume()
                    s.add("")
                continue
            raise _ParseError(f"found '{lit}', expected: ',', or identifier")

    def exact_value(self) -> set[str]:
        tok, _ = self.lookahead()
        if tok in (_T_EOS, _T_COMMA):
            return {""}
        tok, lit = self.consume()
        if tok == _T_ID:
            return {lit}
        raise _ParseError(f"found '{lit}', expected: identifier")


def parse_label_selector(selector: str) -> LabelSelector:
    """Parse a ``labelSelector`` query value; an empty string selects everything.

    Raises a 400 BadRequest :class:`~kubelite.api.errors.StatusError` carrying the
    message kube-apiserver gives, e.g. ``unable to parse requirement: found '',
    expected: '('``.
    """
    try:
        reqs = _Parser(selector).parse()
    except _ParseError as e:
        raise errors.bad_request(str(e)) from None
    return LabelSelector(tuple(reqs))


_EXPRESSION_OPERATORS = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS,
                         "DoesNotExist": DOES_NOT_EXIST}


def label_selector_from_dict(selector: Mapping[str, Any] | None) -> LabelSelector:
    """A ``metav1.LabelSelector`` as a matcher (``LabelSelectorAsSelector``).

    ``None`` selects nothing; ``{}`` (no labels, no expressions) selects everything.
    Raises a 400 on an invalid key, value or operator.
    """
    if selector is None:
        return LabelSelector.nothing()
    match_labels = selector.get("matchLabels") or {}
    exprs = selector.get("matchExpressions") or []
    if not match_labels and not exprs:
        return LabelSelector.everything()
    reqs: list[Requirement] = []
    for k, v in match_labels.items():
        reqs.append(new_requirement(str(k), EQUALS, [str(v)]))
    for expr in exprs:
        op = _EXPRESSION_OPERATORS.get(expr.get("operator", ""))
        if op is None:
            raise errors.bad_request(
                f"{go_quote(str(expr.get('operator', '')))} is not a valid label selector operator")
        values = [str(v) for v in (expr.get("values") or [])]
        reqs.append(new_requirement(str(expr.get("key", "")), op, values))
    return LabelSelector(tuple(reqs))


def format_label_selector(selector: Mapping[str, Any] | None) -> str:
    """The string form of a ``metav1.LabelSelector`` (as ``Scale.status.selector`` shows it).

    ``""`` for a nil or empty selector; ``"<error>"`` when it is invalid.
    """
    try:
        return str(label_selector_from_dict(selector))
    except errors.StatusError:
        return "<error>"


def format_labels(labels: Mapping[str, str] | None) -> str:
    """``labels.FormatLabels``: ``k=v`` sorted and comma-joined, ``<none>`` when empty."""
    if not labels:
        return "<none>"
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
