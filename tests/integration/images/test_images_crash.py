"""kill -9 in the middle of a pull leaves a store that the next pull completes."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import orjson
import pytest

from kubelite.images import ImageService, RegistryConfig
from kubelite.testing.fake_registry import Entry, FakeRegistry, layer_tar
from kubelite.testing.waiting import eventually

pytestmark = pytest.mark.root

CHILD = """
import asyncio, sys
from kubelite.images import ImageService, RegistryConfig
import orjson
async def main():
    cfg = RegistryConfig.from_dict(orjson.loads(sys.argv[2]))
    async with ImageService(sys.argv[1], cfg) as svc:
        await svc.pull("big:v1")
        print("finished", flush=True)
asyncio.run(main())
"""


def _non_empty(folder: Path) -> list[Path]:
    """Files in ``folder`` with content; files renamed away meanwhile are skipped."""
    out = []
    for p in folder.iterdir() if folder.is_dir() else []:
        try:
            if p.stat().st_size > 0:
                out.append(p)
        except FileNotFoundError:
            continue
    return out


async def test_kill_9_mid_pull_then_pull_again(tmp_path: Path) -> None:
    reg = FakeRegistry()
    layers = [layer_tar([Entry(f"d{i}", "dir", mode=0o755),
                         Entry(f"d{i}/blob", data=os.urandom(1 << 20))]) for i in range(3)]
    reg.add_image("library/big", "v1", layers, ["gzip", "zstd", "none"])
    reg.chunk_delay = 0.02  # about 0.3 s per layer
    await reg.start()
    data = tmp_path / "data"
    try:
        env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[3] / "src"))
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", CHILD, str(data), orjson.dumps(reg.registries()).decode(),
            env=env, stdout=asyncio.subprocess.PIPE)
        tmp = data / "images" / "tmp"
        layers_dir = data / "images" / "layers" / "sha256"

        async def mid_pull() -> bool:  # a layer is committed and more content is in flight
            return bool(_non_empty(tmp)) and layers_dir.is_dir() and any(layers_dir.iterdir())

        # the window is short (layers download at once): look often
        await eventually(mid_pull, interval=0.01)  # else the child never got mid-pull
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        assert proc.returncode == -signal.SIGKILL
        assert list(tmp.iterdir())  # it died with work in progress

        gets_before = sum(reg.blob_gets.values())
        reg.chunk_delay = 0
        async with ImageService(data, RegistryConfig.from_dict(reg.registries())) as svc:
            assert await svc.status("big:v1") is None  # never half-listed
            assert list(tmp.iterdir()) == []  # leftovers dropped at start
            img = await svc.pull("big:v1")
            assert svc.store.fsck() == []
            for i, d in enumerate(img.layer_dirs):
                assert (d / f"d{i}/blob").stat().st_size == 1 << 20
            # completed layers were kept: fewer than all blobs fetched again
            assert sum(reg.blob_gets.values()) - gets_before < 4
    finally:
        await reg.stop()
