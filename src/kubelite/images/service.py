"""``ImageService``: pull, inspect, list, remove and import images (the CRI image service).

Contract: ``pull`` returns only an image that is complete and verified in the store; two
pulls of the same reference at once share one pull, and two pulls that share blobs or
layers download and unpack each once. ``remove`` waits for pulls in progress, and never
deletes content another image still uses. Every failure is an
:class:`~kubelite.images.errors.ImageError`.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import shutil
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

from kubelite.aio import tasks as aiotasks
from kubelite.images import manifest as mf
from kubelite.images.client import Progress, RegistryClient, Repo, Resolved, Timeouts
from kubelite.images.errors import ImageError, ImageInUse, ImageNotFound, UnsupportedImage
from kubelite.images.image import Image
from kubelite.images.reference import Reference, parse
from kubelite.images.registries import Credentials, RegistryConfig
from kubelite.images.store import ContentStore, ImageRecord, LayerRecord
from kubelite.images.unpack import unpack_layer

log = logging.getLogger(__name__)
PARALLEL_LAYERS = 4
UNREFERENCED_GRACE = 3600.0  # content of an interrupted pull is kept this long for a retry


class ImageService:
    """Images under ``data_dir/images``, pulled with the mirrors of ``registries``."""

    def __init__(
        self,
        data_dir: str | Path,
        registries: RegistryConfig | str | Path | None = None,
        *,
        timeouts: Timeouts | None = None,
        platform: tuple[str, str, str | None] | None = None,
        in_use: Callable[[], Iterable[str]] | None = None,
    ) -> None:
        if not isinstance(registries, RegistryConfig):
            registries = RegistryConfig.load(registries)
        self.store = ContentStore(Path(data_dir) / "images")
        self.client = RegistryClient(registries, timeouts, platform)
        self._in_use = in_use or (lambda: ())
        self._pulls: dict[str, asyncio.Task[Image]] = {}
        self._blobs: dict[str, asyncio.Task[None]] = {}
        self._layers: dict[str, asyncio.Task[None]] = {}
        self._gc = asyncio.Lock()
        self._started = False

    async def start(self) -> None:
        """Drop what a crashed process left half-done. Idempotent."""
        if not self._started:
            await asyncio.to_thread(self.store.clean_tmp)
            await asyncio.to_thread(self.store.prune, None, UNREFERENCED_GRACE)
            self._started = True

    async def close(self) -> None:
        await aiotasks.stop(list(self._pulls.values()))
        await self.client.close()

    async def __aenter__(self) -> ImageService:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---- queries -------------------------------------------------------------
    async def status(self, ref: str) -> Image | None:
        """The stored image ``ref`` names (a reference or an image id), or None."""
        return await asyncio.to_thread(self._status, ref)

    def _status(self, ref: str) -> Image | None:
        key = store_key(ref)
        rec = self.store.resolve(key)
        return self._image(rec, self.store.refs()) if rec else None

    async def list(self) -> list[Image]:
        def run() -> list[Image]:
            refs = self.store.refs()
            return [self._image(r, refs) for r in self.store.images().values()]
        return await asyncio.to_thread(run)

    def _image(self, rec: ImageRecord, refs: dict[str, str]) -> Image:
        mine = sorted(r for r, i in refs.items() if i == rec.id)
        digests = tuple(r for r in mine if "@" in r)
        config = mf.ImageConfig.parse(self.store.read_blob(rec.id))
        return Image(
            id=rec.id,
            digest=digests[0].split("@", 1)[1] if digests else None,
            repo_tags=tuple(r for r in mine if "@" not in r),
            repo_digests=digests,
            size=rec.size,
            layer_dirs=tuple(self.store.layer_path(x.diff_id) for x in rec.layers),
            config=config,
        )

    # ---- pull ----------------------------------------------------------------
    async def pull(self, ref: str, auth: Credentials | None = None,
                   progress: Progress | None = None) -> Image:
        """Pull ``ref`` (always asking the registry what the tag points to)."""
        await self.start()
        parsed = parse(ref)
        key = str(parsed)
        async with self._gc:
            task = self._pulls.get(key)
            if task is None:
                task = asyncio.create_task(self._pull(parsed, auth, progress))
                self._pulls[key] = task
                task.add_done_callback(lambda t: self._pull_done(key, t))
        return await asyncio.shield(task)

    def _pull_done(self, key: str, task: asyncio.Task[Image]) -> None:
        self._pulls.pop(key, None)
        if not task.cancelled():
            task.exception()

    async def _pull(self, ref: Reference, auth: Credentials | None,
                    progress: Progress | None) -> Image:
        resolved = await self.client.resolve(ref, auth)
        m = resolved.manifest
        config_raw = await self._config(resolved)
        config = mf.ImageConfig.parse(config_raw)
        if len(config.diff_ids) != len(m.layers):
            raise UnsupportedImage(f"{ref}: manifest has {len(m.layers)} layers but the "
                                   f"config lists {len(config.diff_ids)} diff ids")
        sem = asyncio.Semaphore(PARALLEL_LAYERS)

        async def layer(desc: mf.Descriptor, diff_id: str) -> None:
            async with sem:
                await self._ensure_blob(resolved.repo, desc, progress)
            await self._ensure_layer(desc.digest, diff_id)

        await _all(layer(d, i) for d, i in zip(m.layers, config.diff_ids, strict=True))
        await asyncio.to_thread(self._write_manifests, resolved)
        extra = (resolved.index_digest,) if resolved.index_digest else ()
        rec = ImageRecord(
            id=m.config.digest, manifest_digest=resolved.manifest_digest,
            manifest_media_type=m.media_type,
            layers=tuple(LayerRecord(d.digest, i, d.size, d.media_type)
                         for d, i in zip(m.layers, config.diff_ids, strict=True)),
            size=len(resolved.manifest_raw) + m.config.size + sum(d.size for d in m.layers),
            extra_blobs=extra)
        refs = [f"{ref.name}@{resolved.digest}"]
        if ref.tag:
            refs.insert(0, f"{ref.name}:{ref.tag}")
        await asyncio.to_thread(self.store.add_image, rec, refs)
        return await asyncio.to_thread(lambda: self._image(rec, self.store.refs()))

    def _write_manifests(self, r: Resolved) -> None:
        self.store.write_blob(r.manifest_raw, r.manifest_digest)
        if r.index_digest and r.index_raw is not None:
            self.store.write_blob(r.index_raw, r.index_digest)

    async def _config(self, r: Resolved) -> bytes:
        desc = r.manifest.config
        await self._ensure_blob(r.repo, desc, None)
        return await asyncio.to_thread(self.store.read_blob, desc.digest)

    async def _ensure_blob(self, repo: Repo, desc: mf.Descriptor,
                           progress: Progress | None) -> None:
        if await asyncio.to_thread(self.store.has_blob, desc.digest):
            if progress is not None:
                progress(desc.digest, desc.size, desc.size)
            return

        async def fetch() -> None:
            tmp = self.store.temp_file()
            await self.client.fetch_blob(repo, desc, tmp, progress)
            await asyncio.to_thread(self.store.commit_blob, tmp, desc.digest)

        await _coalesce(self._blobs, desc.digest, fetch)

    async def _ensure_layer(self, blob_digest: str, diff_id: str) -> None:
        if await asyncio.to_thread(self.store.has_layer, diff_id):
            return

        async def unpack() -> None:
            await asyncio.to_thread(self._unpack_sync, blob_digest, diff_id)

        await _coalesce(self._layers, diff_id, unpack)

    def _unpack_sync(self, blob_digest: str, diff_id: str) -> None:
        tmp = self.store.temp_dir()
        try:
            unpack_layer(self.store.blob_path(blob_digest), tmp, diff_id)
            self.store.commit_layer(tmp, diff_id)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            # a blob that does not unpack to its diff id is corrupt: do not keep it
            self.store.blob_path(blob_digest).unlink(missing_ok=True)
            raise

    # ---- remove and import -----------------------------------------------------
    async def remove(self, ref: str) -> None:
        """Remove a tag, or (by digest or id, or its last tag) the image with the content
        no other image uses. Raises ImageInUse for an image a container uses."""
        await self.start()
        key = store_key(ref)
        async with self._gc:
            while self._pulls:
                await asyncio.wait(list(self._pulls.values()))
            rec = await asyncio.to_thread(self.store.resolve, key)
            if rec is None:
                raise ImageNotFound(f"image {ref!r} not found")
            refs = await asyncio.to_thread(self.store.refs)
            last = self.store.deletes_image(refs, key, rec.id)
            if last and rec.id in set(self._in_use()):
                raise ImageInUse(f"image {ref} ({rec.id}) is used by a container")
            await asyncio.to_thread(self.store.remove_ref, key)

    async def import_archive(self, path: str | Path, name: str | None = None
                             ) -> builtins.list[Image]:
        """Import an OCI archive or a ``docker save`` archive; returns its images."""
        from kubelite.images.archive import import_archive

        await self.start()
        async with self._gc:
            recs = await asyncio.to_thread(import_archive, self.store, Path(path), name)
        refs = await asyncio.to_thread(self.store.refs)
        return [self._image(r, refs) for r in recs]


def store_key(ref: str) -> str:
    """The index key for a reference: ``name@digest`` if it has a digest, else ``name:tag``;
    an image id (``sha256:...``) is its own key."""
    if ref.startswith("sha256:"):
        return ref
    r = parse(ref)
    return f"{r.name}@{r.digest}" if r.digest else f"{r.name}:{r.tag}"


async def _coalesce(tasks: dict[str, asyncio.Task[None]], key: str,
                    work: Callable[[], Awaitable[None]]) -> None:
    task = tasks.get(key)
    if task is None:
        async def run() -> None:
            await work()

        task = asyncio.create_task(run())
        tasks[key] = task
        task.add_done_callback(lambda t: _forget(tasks, key, t))
    await asyncio.shield(task)


def _forget(tasks: dict[str, asyncio.Task[None]], key: str, task: asyncio.Task[None]) -> None:
    tasks.pop(key, None)
    if not task.cancelled():
        task.exception()  # retrieved: every waiter got it already


async def _all(aws: Iterable[Awaitable[None]]) -> None:
    """Run all to the end, then raise the first failure: when a pull fails, no download or
    unpack it started is still running."""
    results = await asyncio.gather(*aws, return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException):
            raise r


async def import_folder(service: ImageService, folder: str | Path) -> list[Image]:
    """Import every archive in ``folder`` (``*.tar``, ``*.tar.gz``, ``*.tgz``,
    ``*.tar.zst``) not imported before with the same size and mtime. An archive that fails
    is logged and skipped, so one bad file does not keep a node from starting."""
    await service.start()
    done = await asyncio.to_thread(service.store.imported)
    out: list[Image] = []
    for path, key, stamp in await asyncio.to_thread(_archives, Path(folder)):
        if done.get(key) == stamp:
            continue
        try:
            out += await service.import_archive(path)
        except ImageError as exc:
            log.error("importing image archive %s failed: %s", path, exc)
            continue
        await asyncio.to_thread(service.store.mark_imported, key, stamp)
    return out


def _archives(root: Path) -> list[tuple[Path, str, list[int]]]:
    if not root.is_dir():
        return []
    out = []
    for path in sorted(root.iterdir()):
        if path.is_file() and path.name.endswith(ARCHIVE_SUFFIXES):
            st = path.stat()
            out.append((path, str(path.resolve()), [st.st_size, st.st_mtime_ns]))
    return out


ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.zstd")
