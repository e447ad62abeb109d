"""The image record the kubelet and the runtime see."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kubelite.images.manifest import ImageConfig


@dataclass(frozen=True, slots=True)
class Image:
    """A pulled or imported image, complete in the store.

    ``id`` is the config digest (the CRI image id). ``digest`` is the repository digest the
    image was pulled by (the index digest for a multi-platform image), or None for an
    imported image without one. ``layer_dirs`` are the unpacked layers, bottom-most first
    (overlayfs wants them reversed in ``lowerdir=``: top-most first). ``size`` counts the
    manifest, config and compressed layer blobs, as CRI does.
    """

    id: str
    digest: str | None
    repo_tags: tuple[str, ...]
    repo_digests: tuple[str, ...]
    size: int
    layer_dirs: tuple[Path, ...]
    config: ImageConfig

    @property
    def lowerdir(self) -> str:
        """The overlayfs ``lowerdir=`` value: top-most layer first."""
        return ":".join(str(p) for p in reversed(self.layer_dirs))

    @property
    def name(self) -> str:
        """The first tag, else the first digest reference, else the id."""
        return (self.repo_tags or self.repo_digests or (self.id,))[0]
