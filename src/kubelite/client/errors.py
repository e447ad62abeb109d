"""The client's exceptions.

An answer of the API server that is an error is raised as
:class:`kubelite.api.errors.StatusError` (code, reason and message as the server sent
them). Failures to reach the server at all are :class:`ConnectionFailed`.
"""

from __future__ import annotations


class ClientError(Exception):
    """Base of errors the client raises that are not API Status errors."""


class ConnectionFailed(ClientError):
    """The API server could not be reached, or the connection broke mid-request."""


class ConfigError(ClientError):
    """A kubeconfig is missing or malformed."""
