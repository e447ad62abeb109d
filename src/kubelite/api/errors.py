"""API errors as Kubernetes reports them: ``metav1.Status`` bodies with code and reason.

Every error that reaches a client is an :class:`StatusError`; the API server turns it into a
JSON ``Status`` with the HTTP code it carries. Messages follow apimachinery's
``pkg/api/errors`` so that kubectl prints what users know.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


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
        """The ``metav1.Status`` document for this error."""
        body: JSON = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        details = dict(self.details or {})
        if self.causes:
            details["causes"] = [c.to_json() for c in self.causes]
        if details:
            body["details"] = details
        if not self.reason:
            del body["reason"]
        return body


def _qualified(resource: str, group: str) -> str:
    return f"{resource}.{group}" if group else resource


def _details(name: str, resource: str, group: str) -> JSON:
    d: JSON = {"name": name, "kind": resource}
    if group:
        d["group"] = group
    return d


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
    details: JSON = {"name": name, "kind": kind}
    if group:
        details["group"] = group
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
