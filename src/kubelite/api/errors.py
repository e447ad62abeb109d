"""API errors as Kubernetes reports them: ``metav1.Status`` bodies with code and reason.

Every error that reaches a client is an :class:`StatusError`; the API server turns it into a
JSON ``Status`` with the HTTP code it carries. Messages follow apimachinery's
``pkg/api/errors`` so that kubectl prints what users know.

Encoding (:func:`encode_status`) is byte for byte kube-apiserver's, because clients compare
error bodies as text: fields in ``metav1.Status`` order (kind, apiVersion, metadata, status,
message, reason, details, code), details in ``StatusDetails`` order (name, group, kind, uid,
causes, retryAfterSeconds) with empty ones left out (so ``group`` only for non-core kinds),
compact JSON, one trailing newline. :func:`reason_phrase` gives the HTTP reason phrase Go's
``net/http`` writes for a code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus

import orjson

from kubelite.api.meta import JSON

_STATUS_FIELDS = ("kind", "apiVersion", "metadata", "status", "message", "reason",
                  "details", "code")
_DETAILS_FIELDS = ("name", "group", "kind", "uid", "causes", "retryAfterSeconds")
_CAUSE_FIELDS = ("reason", "message", "field")

# Where Go's http.StatusText differs from Python's http.HTTPStatus phrases (which also
# changed between Python versions, e.g. 413 and 422 in 3.13).
_GO_PHRASES = {
    413: "Request Entity Too Large",
    414: "Request URI Too Long",
    416: "Requested Range Not Satisfiable",
    422: "Unprocessable Entity",
}


def reason_phrase(code: int) -> str:
    """The HTTP reason phrase kube-apiserver (Go's ``net/http``) sends with ``code``."""
    if code in _GO_PHRASES:
        return _GO_PHRASES[code]
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return ""


def _ordered(doc: JSON, order: tuple[str, ...], keep: tuple[str, ...] = ()) -> JSON:
    """``doc``'s fields in ``order`` (unknown ones after), empty ones dropped unless kept."""
    out: JSON = {}
    for key in (*order, *(k for k in doc if k not in order)):
        if key in doc and (key in keep or doc[key] not in (None, "", 0, [], {})):
            out[key] = doc[key]
    return out


def normalize_status(doc: JSON) -> JSON:
    """A ``Status`` document as Go's encoder lays it out (field order, omitempty)."""
    out = _ordered(doc, _STATUS_FIELDS, keep=("metadata",))
    out.setdefault("metadata", {})
    if "details" in out:
        details = _ordered(dict(out["details"]), _DETAILS_FIELDS)
        if "causes" in details:
            details["causes"] = [_ordered(dict(c), _CAUSE_FIELDS) for c in details["causes"]]
        if details:
            out["details"] = details
        else:
            del out["details"]
    # kind, apiVersion and metadata lead even when absent from the input's key order
    return {k: out[k] for k in (*(f for f in _STATUS_FIELDS if f in out),
                                *(f for f in out if f not in _STATUS_FIELDS))}


def encode_status(doc: JSON) -> bytes:
    """The bytes kube-apiserver writes for a ``Status``: ordered, compact, newline-ended."""
    return orjson.dumps(normalize_status(doc)) + b"\n"


@dataclass(frozen=True)
class Cause:
    """One ``StatusCause``: a reason such as ``FieldValueRequired``, a message, a field path."""

    reason: str
    message: str
    field: str = ""

    def to_json(self) -> JSON:
        out: JSON = {"reason": self.reason, "message": self.message}
        if self.field:
            out["field"] = self.field
        return out


@dataclass
class StatusError(Exception):
    """An API error that becomes a ``Status`` response with ``code``."""

    code: int
    reason: str
    message: str
    details: JSON | None = None
    causes: list[Cause] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def status(self) -> JSON:
        """The ``metav1.Status`` document for this error, in kube's field order."""
        details = dict(self.details or {})
        if self.causes:
            details["causes"] = [c.to_json() for c in self.causes]
        return normalize_status({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "details": details,
            "code": self.code,
        })

    def body(self) -> bytes:
        """The response body kube-apiserver would send for this error."""
        return encode_status(self.status())


def _qualified(resource: str, group: str) -> str:
    return f"{resource}.{group}" if group else resource


def _details(name: str, resource: str, group: str) -> JSON:
    return {"name": name, "group": group, "kind": resource} if group else \
        {"name": name, "kind": resource}


def not_found(resource: str, name: str, group: str = "") -> StatusError:
    return StatusError(
        404, "NotFound", f'{_qualified(resource, group)} "{name}" not found',
        _details(name, resource, group),
    )


def already_exists(resource: str, name: str, group: str = "") -> StatusError:
    return StatusError(
        409, "AlreadyExists", f'{_qualified(resource, group)} "{name}" already exists',
        _details(name, resource, group),
    )


def conflict(resource: str, name: str, group: str = "", why: str = "") -> StatusError:
    why = why or (
        "the object has been modified; please apply your changes to the latest version "
        "and try again"
    )
    return StatusError(
        409, "Conflict",
        f'Operation cannot be fulfilled on {_qualified(resource, group)} "{name}": {why}',
        _details(name, resource, group),
    )


def invalid(kind: str, name: str, causes: list[Cause], group: str = "") -> StatusError:
    """422 Invalid, with the message kubectl prints: ``Kind "name" is invalid: f: msg, ...``."""
    parts = [f"{c.field}: {c.message}" if c.field else c.message for c in causes]
    if len(parts) == 1:
        summary = parts[0]
    else:
        summary = "[" + ", ".join(parts) + "]"
    qkind = f"{kind}.{group}" if group else kind
    details = _details(name, kind, group)
    return StatusError(422, "Invalid", f'{qkind} "{name}" is invalid: {summary}', details, causes)


def bad_request(message: str) -> StatusError:
    return StatusError(400, "BadRequest", message)


def unauthorized() -> StatusError:
    return StatusError(401, "Unauthorized", "Unauthorized")


def forbidden(message: str) -> StatusError:
    return StatusError(403, "Forbidden", message)


def method_not_allowed(message: str = "the server does not allow this method on the requested resource") -> StatusError:  # noqa: E501
    return StatusError(405, "MethodNotAllowed", message)


def gone(message: str) -> StatusError:
    return StatusError(410, "Expired", message)


def too_large(message: str = "Request entity too large") -> StatusError:
    return StatusError(413, "RequestEntityTooLarge", message)


def unsupported_media_type(content_type: str) -> StatusError:
    return StatusError(
        415, "UnsupportedMediaType", f'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got "{content_type}")',  # noqa: E501
    )


def not_acceptable(message: str) -> StatusError:
    return StatusError(406, "NotAcceptable", message)


def internal(message: str) -> StatusError:
    return StatusError(500, "InternalError", f"Internal error occurred: {message}")


def service_unavailable(message: str) -> StatusError:
    return StatusError(503, "ServiceUnavailable", message)
