"""EndpointSlices (discovery.k8s.io/v1): ``registry/discovery/endpointslice``.

addressType is immutable; ports default to TCP; every address is of the slice's type.
"""

from __future__ import annotations

import ipaddress
from typing import ClassVar

from kubelite.api import scheme
from kubelite.api.meta import JSON
from kubelite.api.validation.field import Errors, list_at, str_at
from kubelite.apiserver.kinds.strategy import Strategy
from kubelite.apiserver.printers.discovery import ENDPOINT_SLICE
from kubelite.apiserver.printers.tables import Printer

ADDRESS_TYPES = ["IPv4", "IPv6", "FQDN"]


class EndpointSliceStrategy(Strategy):
    """EndpointSlices: defaulted port protocols, checked address types."""

    printer: ClassVar[Printer] = ENDPOINT_SLICE

    def default(self, res: scheme.Resource, obj: JSON) -> None:
        for port in obj.get("ports") or []:
            if isinstance(port, dict) and not port.get("protocol"):
                port["protocol"] = "TCP"

    def validate_object(self, res: scheme.Resource, obj: JSON, errs: Errors) -> None:
        atype = str_at(obj, "addressType")
        if not atype:
            errs.required("addressType")
        elif atype not in ADDRESS_TYPES:
            errs.not_supported("addressType", atype, ADDRESS_TYPES)
        for i, ep in enumerate(list_at(obj, "endpoints")):
            addresses = list_at(ep, "addresses")
            if not addresses:
                errs.required(f"endpoints[{i}].addresses")
            for j, addr in enumerate(addresses):
                if atype in ("IPv4", "IPv6") and not _is_ip(str(addr), atype):
                    errs.invalid(f"endpoints[{i}].addresses[{j}]", addr,
                                 f"must be a valid {atype} address")

    def validate_object_update(self, res: scheme.Resource, new: JSON, old: JSON,
                               subresource: str | None, errs: Errors) -> None:
        if new.get("addressType") != old.get("addressType"):
            errs.invalid("addressType", new.get("addressType"), "field is immutable")


def _is_ip(text: str, family: str) -> bool:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return False
    return ip.version == (4 if family == "IPv4" else 6)


ENDPOINT_SLICE_STRATEGY = EndpointSliceStrategy()
