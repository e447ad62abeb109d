"""YAML request bodies turned into JSON values, with bounds: nesting depth, alias expansion,
and JSON-only values.

Contract of :func:`load` (every failure is a 400 whose message starts with the caller's
context, for example ``error converting YAML to JSON: yaml: ...``):

- the body is first scanned as a stream of parser events (libyaml's parser keeps its own
  stack, so this never recurses): more than :data:`~kubelite.api.nesting.MAX_DEPTH` nested
  collections, an alias to a node still open (a recursive document), or an expanded size
  (nodes plus scalar bytes, every alias counted at the size of its anchor) over
  :data:`MAX_EXPANDED` is refused before anything is composed. PyYAML's composer recurses on
  the C stack once per level, which is why depth is bounded before it runs (CVE-2019-11253
  is the alias bomb);
- the result is what kube's YAML-to-JSON conversion gives: timestamps stay strings,
  ``!!binary`` becomes its decoded text, ``!!set`` a map of nulls, integer, float and bool
  keys their string form; other keys, non-finite floats and undecodable binaries are 400s;
- aliases are copied, never shared, so later in-place edits touch one place.
"""

from __future__ import annotations

import math
from typing import Any

import yaml

from kubelite.api import errors, nesting

MAX_EXPANDED = 6 * 1024 * 1024
"""Budget of an expanded document (nodes plus scalar bytes, aliases included): twice the
request body limit. A document without aliases weighs about its length in bytes, so only
alias expansion can exceed it."""

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc]
    """The safe loader with kube's YAML-to-JSON value rules."""


def _timestamp(loader: Any, node: yaml.Node) -> Any:
    return loader.construct_scalar(node)


def _binary(loader: Any, node: yaml.ScalarNode) -> Any:
    raw = yaml.SafeLoader.construct_yaml_binary(loader, node)
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise yaml.constructor.ConstructorError(
            None, None, "!!binary value is not valid UTF-8", node.start_mark) from None


def _set(loader: Any, node: yaml.Node) -> Any:
    data: dict[Any, Any] = {}
    yield data
    data.update(loader.construct_mapping(node))


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)
_Loader.add_constructor("tag:yaml.org,2002:binary", _binary)
_Loader.add_constructor("tag:yaml.org,2002:set", _set)


def _yaml_error(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or "invalid YAML"
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return f"yaml: line {mark.line + 1}: {problem}" if mark is not None else f"yaml: {problem}"


def scan(body: bytes | str) -> None:
    """Refuse deep, recursive or alias-expanding documents (see the module contract)."""
    depth = 0
    total = 0
    starts: list[tuple[str | None, int]] = []
    open_anchors: set[str] = set()
    weights: dict[str, int] = {}
    for event in yaml.parse(body, Loader=_Base):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > nesting.MAX_DEPTH:
                raise errors.bad_request(nesting.depth_error("yaml", nesting.MAX_DEPTH))
            total += 1
            anchor = event.anchor
            starts.append((anchor, total))
            if anchor is not None:
                open_anchors.add(anchor)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            anchor, start = starts.pop()
            if anchor is not None:
                open_anchors.discard(anchor)
                weights[anchor] = total - start + 1
        elif isinstance(event, yaml.ScalarEvent):
            weight = 1 + len(event.value)
            total += weight
            if event.anchor is not None:
                weights[event.anchor] = weight
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor in open_anchors:
                raise errors.bad_request("yaml: anchor refers to itself (recursive document)")
            total += weights.get(event.anchor or "", 1)
        if total > MAX_EXPANDED:
            raise errors.bad_request("yaml: document contains excessive aliasing")


def load(body: bytes | str, context: str) -> Any:
    """The JSON value of a one-document YAML body (see the module contract)."""
    try:
        scan(body)
        value = yaml.load(body, Loader=_Loader)
    except errors.StatusError as exc:
        raise errors.bad_request(context + exc.message) from None
    except yaml.YAMLError as exc:
        raise errors.bad_request(context + _yaml_error(exc)) from None
    except (ValueError, TypeError) as exc:  # constructor failures on odd scalars
        raise errors.bad_request(context + f"yaml: {type(exc).__name__}") from None
    try:
        return _jsonable(value)
    except _NotJSON as exc:
        raise errors.bad_request(context + str(exc)) from None


def load_isolated(body: bytes, context: str) -> tuple[bool, Any]:
    """:func:`load` for a worker process: ``(True, value)`` or ``(False, message)``."""
    try:
        return True, load(body, context)
    except errors.StatusError as exc:
        return False, exc.message


class _NotJSON(Exception):
    pass


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float) and math.isfinite(key):
        return repr(key) if not key.is_integer() else str(int(key))
    raise _NotJSON(f"unsupported map key of type: {_kind(key)}")


def _kind(value: Any) -> str:
    return {dict: "map", list: "slice", tuple: "slice", float: "float64",
            type(None): "nil"}.get(type(value), type(value).__name__)


def _jsonable(value: Any) -> Any:
    """A fresh JSON value (depth is already bounded by :func:`scan`)."""
    if isinstance(value, dict):
        return {_key(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise _NotJSON(f"json: unsupported value: {'NaN' if math.isnan(value) else '+Inf' if value > 0 else '-Inf'}")  # noqa: E501
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise _NotJSON(f"json: unsupported type: {_kind(value)}")
