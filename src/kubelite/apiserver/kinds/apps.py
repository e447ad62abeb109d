"""apps/v1 workloads: ``registry/apps/{deployment,replicaset,daemonset}/strategy.go``.

All three count spec changes in ``metadata.generation`` (their controllers report the
generation they observed), check selector against template, and keep their selector.
"""

from __future__ import annotations

from typing import ClassVar

from kubelite.api import defaults, scheme
from kubelite.api.fieldselectors import META_FIELDS, Fields, field_path, first_of
from kubelite.api.meta import JSON
from kubelite.api.validation import apps
from kubelite.api.validation.field import Errors
from kubelite.apiserver.kinds.strategy import Strategy
from kubelite.apiserver.printers.apps import DAEMONSET, DEPLOYMENT, REPLICASET
from kubelite.apiserver.printers.tables import Printer


class _WorkloadStrategy(Strategy):
    """What the three share: generations and an immutable selector."""

    tracks_generation = True

    def validate_object_update(self, res: scheme.Resource, new: JSON, old: JSON,
                               subresource: str | None, errs: Errors) -> None:
        apps.validate_selector_immutable(new, old, errs)


class DeploymentStrategy(_WorkloadStrategy):
    """Deployments."""

    printer: ClassVar[Printer] = DEPLOYMENT

    def default(self, res: scheme.Resource, obj: JSON) -> None:
        defaults.default_deployment(obj)

    def validate_object(self, res: scheme.Resource, obj: JSON, errs: Errors) -> None:
        apps.validate_deployment(obj, errs)


class ReplicaSetStrategy(_WorkloadStrategy):
    """ReplicaSets (selectable by ``status.replicas``)."""

    printer: ClassVar[Printer] = REPLICASET
    field_selectors: ClassVar[Fields | None] = {
        **META_FIELDS,
        "status.replicas": first_of(field_path("status", "replicas"), lambda _o: "0")}

    def default(self, res: scheme.Resource, obj: JSON) -> None:
        defaults.default_replica_set(obj)

    def validate_object(self, res: scheme.Resource, obj: JSON, errs: Errors) -> None:
        apps.validate_replica_set(obj, errs)


class DaemonSetStrategy(_WorkloadStrategy):
    """DaemonSets."""

    printer: ClassVar[Printer] = DAEMONSET

    def default(self, res: scheme.Resource, obj: JSON) -> None:
        defaults.default_daemon_set(obj)

    def validate_object(self, res: scheme.Resource, obj: JSON, errs: Errors) -> None:
        apps.validate_daemon_set(obj, errs)


DEPLOYMENT_STRATEGY = DeploymentStrategy()
REPLICA_SET_STRATEGY = ReplicaSetStrategy()
DAEMON_SET_STRATEGY = DaemonSetStrategy()
