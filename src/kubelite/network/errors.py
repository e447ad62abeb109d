"""Errors of the network layer."""

from __future__ import annotations


class NetworkError(Exception):
    """Base of every error ``kubelite.network`` raises."""


class CniError(NetworkError):
    """A CNI plugin failed; carries the plugin's error code and message."""

    def __init__(self, plugin: str, command: str, code: int, msg: str, details: str = "") -> None:
        self.plugin = plugin
        self.command = command
        self.code = code
        self.msg = msg
        self.details = details
        text = f"CNI {command} via {plugin} failed (code {code}): {msg}"
        if details:
            text += f": {details}"
        super().__init__(text)


class NamespaceError(NetworkError):
    """A network namespace could not be created or removed."""
