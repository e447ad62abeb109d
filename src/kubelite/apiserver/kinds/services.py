"""Services and Endpoints (core/v1): ``registry/core/service``, ``registry/core/endpoint``.

Service names are DNS-1035 labels (they become DNS names and environment variables).
"""

from __future__ import annotations

from typing import ClassVar

from kubelite.api import defaults, scheme
from kubelite.api.fieldselectors import META_FIELDS, Fields, field_path
from kubelite.api.meta import JSON
from kubelite.api.names import name_is_dns1035_label
from kubelite.api.validation import core
from kubelite.api.validation.field import Errors, NameFn
from kubelite.apiserver.kinds.strategy import Strategy
from kubelite.apiserver.printers.core import ENDPOINTS, SERVICE
from kubelite.apiserver.printers.tables import Printer


class ServiceStrategy(Strategy):
    """Services: DNS-1035 names, ports and types checked."""

    printer: ClassVar[Printer] = SERVICE
    field_selectors: ClassVar[Fields | None] = {
        **META_FIELDS, "spec.clusterIP": field_path("spec", "clusterIP"),
        "spec.type": field_path("spec", "type")}
    name_fn: ClassVar[NameFn] = staticmethod(name_is_dns1035_label)

    def default(self, res: scheme.Resource, obj: JSON) -> None:
        defaults.default_service(obj)

    def validate_object(self, res: scheme.Resource, obj: JSON, errs: Errors) -> None:
        core.validate_service(obj, errs)


class EndpointsStrategy(Strategy):
    """Endpoints: defaulted port protocols."""

    printer: ClassVar[Printer] = ENDPOINTS

    def default(self, res: scheme.Resource, obj: JSON) -> None:
        defaults.default_endpoints(obj)


SERVICE_STRATEGY = ServiceStrategy()
ENDPOINTS_STRATEGY = EndpointsStrategy()
