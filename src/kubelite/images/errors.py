"""The image layer's exception hierarchy.

Every failure of a pull, an import or a store operation raises an :class:`ImageError`
subclass whose message is complete enough to show to a user as is (the kubelet puts it in
the ``ErrImagePull`` waiting message).
"""

from __future__ import annotations


class ImageError(Exception):
    """Base of every error raised by :mod:`kubelite.images`."""


class InvalidReference(ImageError):
    """The image reference does not parse (Kubernetes reason ``InvalidImageName``)."""


class ImageNotFound(ImageError):
    """The registry (or the local store) does not have the image, tag or blob."""


class AuthError(ImageError):
    """The registry refused the credentials, or asked for authentication we cannot give."""


class DigestMismatch(ImageError):
    """Content did not match the digest (or the size) it was announced with."""


class RegistryUnavailable(ImageError):
    """The registry could not be reached, failed (5xx), timed out or cut a transfer short."""


class UnsupportedImage(ImageError):
    """The manifest has an unknown media type, or no entry for this platform."""


class LayerError(ImageError):
    """A layer could not be unpacked (bad archive, bad compression, wrong diff id)."""


class ArchiveError(ImageError):
    """An image archive (OCI or ``docker save``) is malformed."""


class ImageInUse(ImageError):
    """The image cannot be removed: a container still uses it."""


class ConfigError(ImageError):
    """``registries.yaml`` is malformed."""
