"""PriorityClasses (scheduling.k8s.io/v1): ``registry/scheduling/priorityclass``.

Cluster-scoped; value and preemptionPolicy are immutable; the two built-in
``system-`` classes are created by the server at start (:func:`ensure_system_classes`).
"""

from __future__ import annotations

from typing import ClassVar

from kubelite.api import defaults, errors, scheme
from kubelite.api.meta import JSON
from kubelite.api.validation import scheduling
from kubelite.api.validation.field import Errors
from kubelite.apiserver.kinds.strategy import Strategy, Writer
from kubelite.apiserver.printers.scheduling import PRIORITY_CLASS
from kubelite.apiserver.printers.tables import Printer


class PriorityClassStrategy(Strategy):
    """PriorityClasses: defaults, the reserved ``system-`` names, immutable value."""

    printer: ClassVar[Printer] = PRIORITY_CLASS

    def default(self, res: scheme.Resource, obj: JSON) -> None:
        defaults.default_priority_class(obj)

    def validate_object(self, res: scheme.Resource, obj: JSON, errs: Errors) -> None:
        scheduling.validate_priority_class(obj, errs)

    def validate_object_update(self, res: scheme.Resource, new: JSON, old: JSON,
                               subresource: str | None, errs: Errors) -> None:
        scheduling.validate_priority_class_update(new, old, errs)


PRIORITY_CLASS_STRATEGY = PriorityClassStrategy()


async def ensure_system_classes(writer: Writer) -> None:
    """Create ``system-node-critical`` and ``system-cluster-critical`` when absent."""
    res = scheme.lookup("scheduling.k8s.io", "v1", "priorityclasses")
    assert res is not None
    for name in defaults.SYSTEM_PRIORITY_CLASSES:
        try:
            await writer.create(res, None, defaults.system_priority_class(name))
        except errors.StatusError as exc:
            if exc.code != 409:
                raise
