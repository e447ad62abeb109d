"""Images for containers: pull policy, pull back-off and the kubelet's image events.

Contract: :meth:`ImagePuller.ensure` returns the runtime's :class:`ImageSpec` or raises
:class:`ImagePullError` whose ``reason`` is the container's waiting reason
(``ErrImagePull``, ``ImagePullBackOff``, ``ErrImageNeverPull``, ``InvalidImageName``) and
whose message is Kubernetes'. Events: Pulling, Pulled, Failed, BackOff.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from kubelite.images.errors import ImageError, InvalidReference
from kubelite.images.image import Image
from kubelite.kubelet.backoff import Backoff
from kubelite.kubelet.podspec import JSON, pull_policy
from kubelite.runtime.protocol import ImageSpec

# (type, reason, message) for the container's field path
Recorder = Callable[[str, str, str], None]


class ImagePullError(Exception):
    """The container's waiting ``reason`` and message; ``retry_after`` is when a pull may
    be tried again (the rest of the back-off; 0 when at once)."""

    def __init__(self, reason: str, message: str, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.retry_after = retry_after


class ImageServiceLike(Protocol):
    async def pull(self, ref: str) -> Image: ...

    async def status(self, ref: str) -> Image | None: ...


def image_spec(image: Image, ref: str) -> ImageSpec:
    cfg = image.config
    shown = image.repo_tags[0] if image.repo_tags else ref
    image_id = image.repo_digests[0] if image.repo_digests else image.id
    return ImageSpec(ref=shown, layers=tuple(str(p) for p in image.layer_dirs),
                     entrypoint=tuple(cfg.entrypoint), cmd=tuple(cfg.cmd), env=tuple(cfg.env),
                     working_dir=cfg.working_dir, user=cfg.user, stop_signal=cfg.stop_signal,
                     image_id=image_id)


class ImagePuller:
    def __init__(self, images: ImageServiceLike, backoff: Backoff) -> None:
        self.images = images
        self.backoff = backoff
        self._last_failure: dict[str, datetime] = {}

    def gc(self) -> None:
        """Forget failures whose back-off has expired."""
        self.backoff.gc()
        for key in [k for k in self._last_failure if self.backoff.delay(k) == 0]:
            del self._last_failure[key]

    async def ensure(self, pod: JSON, container: JSON, record: Recorder) -> ImageSpec:
        ref = str(container.get("image") or "")
        policy = pull_policy(container)
        uid = str((pod.get("metadata") or {}).get("uid"))
        key = f"{uid}/{ref}"
        try:
            present = await self.images.status(ref) if ref else None
        except InvalidReference as exc:
            msg = f'Failed to apply default image tag "{ref}": {exc}'
            record("Warning", "InspectFailed", msg)
            raise ImagePullError("InvalidImageName", msg) from exc
        if present is not None and policy != "Always":
            record("Normal", "Pulled", f'Container image "{ref}" already present on machine')
            return image_spec(present, ref)
        if policy == "Never":
            msg = (f'Container image "{ref}" is not present with pull policy of Never')
            record("Warning", "ErrImageNeverPull", msg)
            raise ImagePullError("ErrImageNeverPull", msg)
        failed_at = self._last_failure.get(key)
        if failed_at is not None:
            if self.backoff.in_backoff_since(key, failed_at):
                msg = f'Back-off pulling image "{ref}"'
                record("Normal", "BackOff", msg)
                record("Warning", "Failed", "Error: ImagePullBackOff")
                raise ImagePullError("ImagePullBackOff", msg,
                                     self.backoff.remaining(key, failed_at))
        record("Normal", "Pulling", f'Pulling image "{ref}"')
        start = time.monotonic()
        try:
            image = await self.images.pull(ref)
        except ImageError as exc:
            self.backoff.next(key)
            self._last_failure[key] = self.backoff.clock()
            msg = f'Failed to pull image "{ref}": {exc}'
            record("Warning", "Failed", msg)
            record("Warning", "Failed", "Error: ErrImagePull")
            raise ImagePullError("ErrImagePull", msg) from exc
        self._last_failure.pop(key, None)
        self.backoff.reset(key)
        took = time.monotonic() - start
        record("Normal", "Pulled",
               f'Successfully pulled image "{ref}" in {_dur(took)} ({_dur(took)} including '
               f"waiting). Image size: {image.size} bytes.")
        return image_spec(image, ref)


def _dur(seconds: float) -> str:
    """Go's Duration.String() rounded like the kubelet's pull message (ms precision)."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    s = round(seconds, 3)
    if s < 60:
        return f"{s:g}s"
    m, rest = divmod(s, 60)
    return f"{int(m)}m{rest:g}s"
