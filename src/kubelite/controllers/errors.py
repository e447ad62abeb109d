"""The controllers' exceptions."""

from __future__ import annotations


class ControllerError(Exception):
    """Base of errors raised by the controllers (a sync that must be retried)."""


class NotSynced(ControllerError):
    """The informer cache did not catch up with the controller's own writes in time."""
