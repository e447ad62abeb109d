"""Nodes (core/v1): ``registry/core/node/strategy.go``.

Unlike other kinds with a status subresource, a node keeps the status it is created
with: the kubelet registers its node with addresses, capacity and conditions at once.
"""

from __future__ import annotations

from typing import ClassVar

from kubelite.api import defaults, scheme
from kubelite.api.fieldselectors import NAME_ONLY_FIELDS, Fields, bool_field
from kubelite.api.meta import JSON
from kubelite.apiserver.kinds.strategy import Strategy
from kubelite.apiserver.printers.core import NODE
from kubelite.apiserver.printers.tables import Printer


class NodeStrategy(Strategy):
    """Nodes: created with their status."""

    printer: ClassVar[Printer] = NODE
    field_selectors: ClassVar[Fields | None] = {
        **NAME_ONLY_FIELDS, "spec.unschedulable": bool_field("spec", "unschedulable")}

    def default(self, res: scheme.Resource, obj: JSON) -> None:
        defaults.default_node(obj)

    def prepare_for_create(self, res: scheme.Resource, obj: JSON) -> None:
        """The status the node is registered with is kept."""


NODE_STRATEGY = NodeStrategy()
