"""Conversion between API versions that share storage: core/v1 and events.k8s.io/v1 Events.

Events are stored in the core/v1 shape; events.k8s.io/v1 requests and responses are
converted at the API boundary, field by field as Kubernetes maps them.
"""

from __future__ import annotations

from kubelite.api.meta import JSON

# events.k8s.io/v1 field -> core/v1 field
_EVENT_FIELDS = {
    "regarding": "involvedObject",
    "note": "message",
    "deprecatedSource": "source",
    "deprecatedFirstTimestamp": "firstTimestamp",
    "deprecatedLastTimestamp": "lastTimestamp",
    "deprecatedCount": "count",
    "reportingController": "reportingComponent",
}
_CORE_FIELDS = {v: k for k, v in _EVENT_FIELDS.items()}


def _rename(obj: JSON, mapping: dict[str, str], api_version: str) -> JSON:
    out: JSON = {}
    for key, value in obj.items():
        out[mapping.get(key, key)] = value
    out["apiVersion"] = api_version
    out["kind"] = "Event"
    return out


def event_to_core(obj: JSON) -> JSON:
    """An events.k8s.io/v1 Event in the core/v1 (storage) shape."""
    return _rename(obj, _EVENT_FIELDS, "v1")


def event_from_core(obj: JSON) -> JSON:
    """A stored (core/v1) Event as events.k8s.io/v1 shows it."""
    return _rename(obj, _CORE_FIELDS, "events.k8s.io/v1")
