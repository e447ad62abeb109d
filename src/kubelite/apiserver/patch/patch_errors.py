"""Errors shared by the patch algorithms, as kube-apiserver reports them."""

from __future__ import annotations

from kubelite.api import errors


def rejected() -> errors.StatusError:
    """The 422 kube answers when a patch cannot be applied.

    kube-apiserver builds it with ``NewGenericServerResponse(422, ...)``, which keeps only a
    fixed message: the reason the patch failed does not reach the client.
    """
    return errors.StatusError(
        422, "Invalid", "the server rejected our request due to an error in our request")
