"""Table columns of ``discovery.k8s.io`` kinds, as kubectl prints them
(``printEndpointSlice`` in kube's printers)."""

from __future__ import annotations

import datetime as dt

from kubelite.api.meta import JSON
from kubelite.apiserver.printers.tables import (
    AGE_COL,
    Cells,
    Printer,
    age_cell,
    col,
    list_at,
    name_col,
    name_of,
    text_at,
)

_LIMIT = 3


def _with_more(items: list[str], count: int) -> str:
    """Up to three items, then ``+ N more...``; ``<unset>`` when there are none."""
    text = ",".join(items[:_LIMIT])
    if count > _LIMIT:
        return f"{text} + {count - _LIMIT} more..."
    return text or "<unset>"


def format_slice_ports(ports: list[JSON]) -> str:
    """The PORTS cell: each port's number (its name when it has none, ``*`` for all)."""
    shown = []
    for port in ports:
        number = port.get("port") if isinstance(port, dict) else None
        name = port.get("name") if isinstance(port, dict) else None
        shown.append(str(number) if number is not None else (name if name else "*"))
    return _with_more(shown, len(shown))


def format_slice_endpoints(endpoints: list[JSON]) -> str:
    """The ENDPOINTS cell: the addresses of every endpoint, up to three."""
    shown = [str(a) for ep in endpoints if isinstance(ep, dict)
             for a in ep.get("addresses") or []]
    return _with_more(shown, len(shown))


def _slice_cells(obj: JSON, now: dt.datetime) -> Cells:
    return [name_of(obj), text_at(obj, "addressType"),
            format_slice_ports(list_at(obj, "ports")),
            format_slice_endpoints(list_at(obj, "endpoints")), age_cell(obj, now)]


ENDPOINT_SLICE = Printer(
    (
        name_col(),
        col("AddressType", "addressType specifies the type of address carried by this "
            "EndpointSlice. All addresses in this slice must be the same type. This field is "
            "immutable after creation. The following address types are currently supported: "
            "* IPv4: Represents an IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: "
            "Represents a Fully Qualified Domain Name."),
        col("Ports", "ports specifies the list of network ports exposed by each endpoint in "
            "this slice. Each port must have a unique name. When ports is empty, it indicates "
            "that there are no defined ports. When a port is defined with a nil port value, "
            "it indicates \"all ports\". Each slice may include a maximum of 100 ports."),
        col("Endpoints", "endpoints is a list of unique endpoints in this slice. Each slice "
            "may include a maximum of 1000 endpoints."),
        AGE_COL,
    ),
    _slice_cells,
)
