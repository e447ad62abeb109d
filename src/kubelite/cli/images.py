"""``kubelite images {pull,ls,rm,import}``: the node's image store from the command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from kubelite.images import Credentials, Image, ImageError, ImageService
from kubelite.images.reference import familiar, parse

DEFAULT_DATA_DIR = "/var/lib/kubelite"
DEFAULT_REGISTRIES = "/etc/kubelite/registries.yaml"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("images", help="pull, list, remove and import images")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR,
                   help=f"kubelite's data folder (default {DEFAULT_DATA_DIR})")
    p.add_argument("--registries", default=DEFAULT_REGISTRIES,
                   help=f"mirrors and credentials, k3s format (default {DEFAULT_REGISTRIES})")
    def usage(_args: argparse.Namespace) -> int:
        p.print_help()
        return 2

    p.set_defaults(func=usage)
    sub = p.add_subparsers(dest="images_command", metavar="COMMAND")

    pull = sub.add_parser("pull", help="pull an image from its registry (or a mirror)")
    pull.add_argument("image")
    pull.add_argument("--username", default="")
    pull.add_argument("--password", default="")
    pull.add_argument("-q", "--quiet", action="store_true", help="print only the image id")
    pull.set_defaults(func=lambda a: _run(a, _pull))

    ls = sub.add_parser("ls", aliases=["list"], help="list images")
    ls.add_argument("-q", "--quiet", action="store_true", help="print only image ids")
    ls.set_defaults(func=lambda a: _run(a, _ls))

    rm = sub.add_parser("rm", aliases=["rmi"], help="remove images (by reference or id)")
    rm.add_argument("images", nargs="+")
    rm.set_defaults(func=lambda a: _run(a, _rm))

    imp = sub.add_parser("import", help="import OCI or docker-save archives")
    imp.add_argument("files", nargs="+")
    imp.add_argument("--name", default=None,
                     help="reference for an archive that does not name its image")
    imp.set_defaults(func=lambda a: _run(a, _import))


def _run(args: argparse.Namespace,
         action: Callable[[ImageService, argparse.Namespace], Awaitable[int]]) -> int:
    async def main() -> int:
        # the node's image store: <data-dir>/agent, where the kubelet reads it
        async with ImageService(Path(args.data_dir) / "agent", args.registries) as svc:
            return await action(svc, args)

    try:
        return asyncio.run(main())
    except ImageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


class ProgressLine:
    """One self-overwriting status line (only on a terminal)."""

    def __init__(self, label: str, out: TextIO) -> None:
        self.label = label
        self.out = out
        self.blobs: dict[str, tuple[int, int]] = {}
        self.enabled = out.isatty()
        self._last = 0.0

    def __call__(self, digest: str, done: int, total: int) -> None:
        self.blobs[digest] = (done, total)
        now = time.monotonic()
        if self.enabled and (now - self._last > 0.1 or done == total):
            self._last = now
            d = sum(x for x, _ in self.blobs.values())
            t = sum(y for _, y in self.blobs.values())
            complete = sum(1 for x, y in self.blobs.values() if x >= y)
            width = 30
            fill = int(width * d / t) if t else width
            self.out.write(f"\r{self.label} [{'=' * fill}{' ' * (width - fill)}] "
                           f"{_size(d)}/{_size(t)} ({complete}/{len(self.blobs)} blobs)\x1b[K")
            self.out.flush()

    def finish(self) -> None:
        if self.enabled and self.blobs:
            self.out.write("\r\x1b[K")
            self.out.flush()


async def _pull(svc: ImageService, a: argparse.Namespace) -> int:
    ref = str(parse(a.image))
    creds = Credentials(a.username, a.password) if a.username else None
    progress = ProgressLine(f"Pulling {familiar(parse(a.image))}", sys.stderr)
    started = time.monotonic()
    try:
        img = await svc.pull(ref, auth=creds, progress=None if a.quiet else progress)
    finally:
        progress.finish()
    if a.quiet:
        print(img.id)
    else:
        print(f"{ref}: pulled {img.id} ({_size(img.size)}) in "
              f"{time.monotonic() - started:.2f}s")
    return 0


def _rows(img: Image) -> list[tuple[str, str, str]]:
    out = []
    for ref in img.repo_tags:
        name, _, tag = ref.rpartition(":")
        out.append((name, tag, img.id))
    if not out:
        name = img.repo_digests[0].split("@")[0] if img.repo_digests else "<none>"
        out.append((name, "<none>", img.id))
    return out


async def _ls(svc: ImageService, a: argparse.Namespace) -> int:
    images = sorted(await svc.list(), key=lambda i: i.name)
    if a.quiet:
        for img in images:
            print(img.id)
        return 0
    rows = [("IMAGE", "TAG", "IMAGE ID", "SIZE")]
    for img in images:
        for name, tag, image_id in _rows(img):
            rows.append((name, tag, image_id.removeprefix("sha256:")[:13], _size(img.size)))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        print("   ".join(c.ljust(w) for c, w in zip(r[:3], widths, strict=True)) + "   " + r[3])
    return 0


async def _rm(svc: ImageService, a: argparse.Namespace) -> int:
    code = 0
    for ref in a.images:
        try:
            await svc.remove(ref)
            print(f"Deleted: {ref}")
        except ImageError as exc:
            print(f"error: {exc}", file=sys.stderr)
            code = 1
    return code


async def _import(svc: ImageService, a: argparse.Namespace) -> int:
    for f in a.files:
        for img in await svc.import_archive(f, a.name):
            print(f"{f}: imported {img.name} ({img.id})")
    return 0


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f}{unit}" if unit == "B" else f"{size:.1f}{unit}"
        size /= 1000
    return f"{n}B"
