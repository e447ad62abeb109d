"""kubelite.images: pull images from OCI registries (with mirrors), import archives, and
keep them unpacked for overlayfs in a content-addressed store.

The kubelet uses :class:`ImageService`; tests use :class:`kubelite.testing.fake_images.
FakeImageService` behind the same methods.
"""

from kubelite.images.client import Timeouts
from kubelite.images.errors import (
    ArchiveError,
    AuthError,
    ConfigError,
    DigestMismatch,
    ImageError,
    ImageInUse,
    ImageNotFound,
    InvalidReference,
    LayerError,
    RegistryUnavailable,
    UnsupportedImage,
)
from kubelite.images.image import Image
from kubelite.images.manifest import ImageConfig
from kubelite.images.reference import Reference, parse
from kubelite.images.registries import Credentials, RegistryConfig
from kubelite.images.service import ImageService, import_folder

__all__ = [
    "ArchiveError", "AuthError", "ConfigError", "Credentials", "DigestMismatch", "Image",
    "ImageConfig", "ImageError", "ImageInUse", "ImageNotFound", "ImageService",
    "InvalidReference", "LayerError", "Reference", "RegistryConfig", "RegistryUnavailable",
    "Timeouts", "UnsupportedImage", "import_folder", "parse",
]
