"""Events, in core/v1 and events.k8s.io/v1 (one storage, two spellings).

``registry/core/event``: the namespaces of the event and its object agree; new-style
events (``eventTime`` set) name their reporter, action and reason.
"""

from __future__ import annotations

from typing import ClassVar

from kubelite.api import scheme
from kubelite.api.fieldselectors import META_FIELDS, Fields, Getter, field_path, first_of
from kubelite.api.meta import JSON
from kubelite.api.validation import core
from kubelite.api.validation.field import Errors
from kubelite.apiserver.kinds.strategy import Strategy
from kubelite.apiserver.printers.core import EVENT
from kubelite.apiserver.printers.tables import Printer


def _event_ref(attr: str) -> Getter:
    return first_of(field_path("involvedObject", attr), field_path("regarding", attr))


class EventStrategy(Strategy):
    """Events of both API groups."""

    printer: ClassVar[Printer] = EVENT
    field_selectors: ClassVar[Fields | None] = {
        **META_FIELDS,
        "involvedObject.kind": _event_ref("kind"),
        "involvedObject.namespace": _event_ref("namespace"),
        "involvedObject.name": _event_ref("name"),
        "involvedObject.uid": _event_ref("uid"),
        "involvedObject.apiVersion": _event_ref("apiVersion"),
        "involvedObject.resourceVersion": _event_ref("resourceVersion"),
        "involvedObject.fieldPath": _event_ref("fieldPath"),
        "reason": field_path("reason"),
        "reportingComponent": first_of(field_path("reportingComponent"),
                                       field_path("reportingController")),
        "source": first_of(field_path("source", "component"),
                           field_path("deprecatedSource", "component"),
                           field_path("reportingComponent"),
                           field_path("reportingController")),
        "type": field_path("type"),
    }

    def validate_object(self, res: scheme.Resource, obj: JSON, errs: Errors) -> None:
        new_api = "regarding" in obj or "note" in obj or (
            res.group == "events.k8s.io" and "involvedObject" not in obj)
        core.validate_event(obj, new_api, errs)


EVENT_STRATEGY = EventStrategy()
