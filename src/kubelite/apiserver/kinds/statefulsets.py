"""apps/v1 StatefulSets and ControllerRevisions, policy/v1 PodDisruptionBudgets
(``registry/apps/statefulset``, ``registry/apps/controllerrevision``,
``registry/policy/poddisruptionbudget``).

StatefulSets and budgets count spec changes in ``metadata.generation``; a StatefulSet's
selector and all of its spec but the fields kube lets change are immutable; a
revision's data never changes.
"""

from __future__ import annotations

from typing import ClassVar

from kubelite.api import defaults_storage, scheme
from kubelite.api.meta import JSON
from kubelite.api.validation import apps, statefulset
from kubelite.api.validation.field import Errors
from kubelite.apiserver.kinds.strategy import Strategy
from kubelite.apiserver.printers.storage import (
    CONTROLLER_REVISION,
    POD_DISRUPTION_BUDGET,
    STATEFUL_SET,
)
from kubelite.apiserver.printers.tables import Printer


class StatefulSetStrategy(Strategy):
    """StatefulSets."""

    tracks_generation = True
    printer: ClassVar[Printer] = STATEFUL_SET

    def default(self, res: scheme.Resource, obj: JSON) -> None:
        defaults_storage.default_stateful_set(obj)

    def validate_object(self, res: scheme.Resource, obj: JSON, errs: Errors) -> None:
        statefulset.validate_stateful_set(obj, errs)

    def validate_object_update(self, res: scheme.Resource, new: JSON, old: JSON,
                               subresource: str | None, errs: Errors) -> None:
        if subresource is None:
            apps.validate_selector_immutable(new, old, errs)
            statefulset.validate_stateful_set_update(new, old, errs)


class ControllerRevisionStrategy(Strategy):
    """ControllerRevisions: snapshots of a workload's template."""

    printer: ClassVar[Printer] = CONTROLLER_REVISION

    def validate_object(self, res: scheme.Resource, obj: JSON, errs: Errors) -> None:
        statefulset.validate_controller_revision(obj, errs)

    def validate_object_update(self, res: scheme.Resource, new: JSON, old: JSON,
                               subresource: str | None, errs: Errors) -> None:
        statefulset.validate_controller_revision_update(new, old, errs)


class PodDisruptionBudgetStrategy(Strategy):
    """PodDisruptionBudgets."""

    tracks_generation = True
    printer: ClassVar[Printer] = POD_DISRUPTION_BUDGET

    def default(self, res: scheme.Resource, obj: JSON) -> None:
        defaults_storage.default_pod_disruption_budget(obj)

    def validate_object(self, res: scheme.Resource, obj: JSON, errs: Errors) -> None:
        statefulset.validate_pod_disruption_budget(obj, errs)


STATEFUL_SET_STRATEGY = StatefulSetStrategy()
CONTROLLER_REVISION_STRATEGY = ControllerRevisionStrategy()
POD_DISRUPTION_BUDGET_STRATEGY = PodDisruptionBudgetStrategy()
