"""Server-side Tables (``meta.k8s.io/v1`` Table) as kube-apiserver's printers build them.

``kubectl get`` asks for a Table and prints its cells verbatim, so the columns, their
order, types, priorities and the cell texts follow ``pkg/printers/internalversion``
(Kubernetes 1.32). The server always renders the wide columns (``priority: 1``); kubectl
shows them with ``-o wide``. Each kind's strategy names its :class:`Printer`; kinds
without one get :data:`DEFAULT_PRINTER` (Name / Created At). The printers themselves
are in :mod:`kubelite.apiserver.printers.core` and :mod:`kubelite.apiserver.printers.apps`.

Everything here is a pure function of the objects and ``now`` (a UTC datetime).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from kubelite.api import errors
from kubelite.api.meta import JSON, dig
from kubelite.api.meta_time import parse_time, rfc3339
from kubelite.api.selectors import label_selector_from_dict
from kubelite.apiserver.printers.humanize import since
from kubelite.apiserver.printers.table_docs import DOC

Cells = list[Any]

INCLUDE_NONE = "None"
INCLUDE_METADATA = "Metadata"
INCLUDE_OBJECT = "Object"


def col(name: str, description: str, *, type_: str = "string", fmt: str = "",
        priority: int = 0) -> JSON:
    """One ``TableColumnDefinition``."""
    return {"name": name, "type": type_, "format": fmt, "description": description,
            "priority": priority}


def name_col(priority: int = 0) -> JSON:
    """The Name column every printer starts with."""
    return col("Name", DOC["NAME"], fmt="name", priority=priority)


AGE_COL = col("Age", DOC["AGE"])
CONTAINERS_COL = col("Containers", "Names of each container in the template.", priority=1)
IMAGES_COL = col("Images", "Images referenced by each container in the template.", priority=1)


@dataclass(frozen=True)
class Printer:
    """Column definitions and the function that renders one object's cells."""

    columns: tuple[JSON, ...]
    cells: Callable[[JSON, dt.datetime], Cells]
    conditions: Callable[[JSON], list[JSON] | None] | None = None


# -- helpers ---------------------------------------------------------------------------

def text_at(obj: Any, *keys: str) -> str:
    """The text at ``keys`` (``""`` when unset)."""
    v = dig(obj, *keys)
    return "" if v is None else str(v)


def int_of(obj: Any, *keys: str, default: int = 0) -> int:
    """The number at ``keys`` (``default`` when unset or not a number)."""
    v = dig(obj, *keys)
    return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else default


def list_at(obj: Any, *keys: str) -> list[Any]:
    """The list at ``keys`` (empty when unset)."""
    v = dig(obj, *keys)
    return v if isinstance(v, list) else []


def map_at(obj: Any, *keys: str) -> dict[str, Any]:
    """The object at ``keys`` (empty when unset)."""
    v = dig(obj, *keys)
    return v if isinstance(v, dict) else {}


def name_of(obj: JSON) -> str:
    """``metadata.name``."""
    return text_at(obj, "metadata", "name")


def age_cell(obj: JSON, now: dt.datetime) -> str:
    """The Age cell: time since creation, as kubectl words it."""
    return since(text_at(obj, "metadata", "creationTimestamp"), now)


def time_of(value: Any) -> dt.datetime | None:
    """A timestamp field as an aware datetime (None when unset or malformed)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        t = parse_time(value)
    except ValueError:
        return None
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


def container_cells(template_spec: Any) -> tuple[str, str]:
    """``layoutContainerCells``: container names and images, comma-joined."""
    cs = [c for c in list_at(template_spec, "containers") if isinstance(c, dict)]
    return ",".join(text_at(c, "name") for c in cs), ",".join(text_at(c, "image") for c in cs)


def selector_string(selector: Any) -> str | None:
    """``LabelSelectorAsSelector(...).String()``; None when the selector is invalid."""
    try:
        return str(label_selector_from_dict(selector if isinstance(selector, dict) else None))
    except errors.StatusError:
        return None


def format_selector(selector: Any) -> str:
    """``metav1.FormatLabelSelector``: ``<none>`` when empty, ``<error>`` when invalid."""
    text = selector_string(selector)
    if text is None:
        return "<error>"
    return text or "<none>"

def _created_at(obj: JSON) -> str:
    t = time_of(dig(obj, "metadata", "creationTimestamp"))
    return rfc3339(t) if t is not None else "0001-01-01T00:00:00Z"


DEFAULT_PRINTER = Printer(
    (name_col(), col("Created At", DOC["AGE"], type_="date")),
    lambda obj, _now: [name_of(obj), _created_at(obj)],
)

# -- the Table -----------------------------------------------------------------------------

def column_definitions(printer: Printer) -> list[JSON]:
    """The ``columnDefinitions`` of ``printer``'s Table (fresh copies)."""
    return [dict(c) for c in printer.columns]


def _row_object(obj: JSON, include_object: str) -> JSON | None:
    if include_object == INCLUDE_NONE:
        return None
    if include_object == INCLUDE_OBJECT:
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": obj.get("metadata") or {}}


def check_include_object(value: str | None) -> str:
    """Normalise the ``includeObject`` query value: ``""`` means ``Metadata``.

    Raises 400 ``unrecognized includeObject value: "X"`` as kube-apiserver does.
    """
    if not value:
        return INCLUDE_METADATA
    if value in (INCLUDE_NONE, INCLUDE_METADATA, INCLUDE_OBJECT):
        return value
    raise errors.bad_request(f'unrecognized includeObject value: "{value}"')


def table_row(printer: Printer, obj: JSON, now: dt.datetime,
              include_object: str = INCLUDE_METADATA) -> JSON:
    """One ``TableRow``: cells, row conditions (finished pods) and the row object."""
    row: JSON = {"cells": printer.cells(obj, now)}
    if printer.conditions is not None:
        conditions = printer.conditions(obj)
        if conditions:
            row["conditions"] = conditions
    row["object"] = _row_object(obj, check_include_object(include_object))
    return row


def build_table(
    printer: Printer,
    objects: Iterable[JSON],
    now: dt.datetime,
    include_object: str = INCLUDE_METADATA,
    no_headers: bool = False,
) -> JSON:
    """A ``meta.k8s.io/v1`` Table of ``objects`` for ``kubectl get``.

    Every column is present (wide ones carry ``priority: 1``). Row objects are
    ``PartialObjectMetadata`` (``include_object="Metadata"``, the default), the object
    itself (``"Object"``) or null (``"None"``). ``no_headers`` sets ``columnDefinitions``
    to null, as in the Table events of a watch after the first. ``metadata`` is left
    empty for the caller (resourceVersion, continue).
    """
    include = check_include_object(include_object)
    cells, conditions = printer.cells, printer.conditions
    rows: list[JSON] = []
    for obj in objects:
        row: JSON = {"cells": cells(obj, now)}
        if conditions is not None and (found := conditions(obj)):
            row["conditions"] = found
        row["object"] = _row_object(obj, include)
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {},
        "columnDefinitions": None if no_headers else [dict(c) for c in printer.columns],
        "rows": rows,
    }
