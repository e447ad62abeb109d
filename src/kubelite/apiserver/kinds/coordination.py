"""coordination.k8s.io/v1 Leases (node heartbeats, leader election)."""

from __future__ import annotations

from typing import ClassVar

from kubelite.api import defaults, scheme
from kubelite.api.meta import JSON
from kubelite.apiserver.kinds.strategy import Strategy
from kubelite.apiserver.printers.core import LEASE
from kubelite.apiserver.printers.tables import Printer


class LeaseStrategy(Strategy):
    """Leases: a defaulted spec."""

    printer: ClassVar[Printer] = LEASE

    def default(self, res: scheme.Resource, obj: JSON) -> None:
        defaults.default_lease(obj)


LEASE_STRATEGY = LeaseStrategy()
