"""kill -9 during a stream of creates loses no acknowledged write."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from kubelite.storage.sqlite import SQLiteStore

WRITER = r"""
import asyncio, sys
from pathlib import Path
from kubelite.storage.sqlite import SQLiteStore

async def main() -> None:
    store = SQLiteStore(Path(sys.argv[1]), compact_interval=0.05, keep_revisions=100)
    await store.start()
    out = sys.stdout

    async def creator(w: int) -> None:
        i = 0
        while True:
            key = f"/registry/core/pods/ns{w}/p{i}"
            obj = {"metadata": {"name": f"p{i}", "namespace": f"ns{w}"}, "spec": {"n": i}}
            made = await store.create(key, obj)
            if i % 4 == 0:
                made = await store.update(key, {**obj, "spec": {"n": -i}})
            out.write(f"{key} {made['metadata']['resourceVersion']} {made['spec']['n']}\n")
            out.flush()
            i += 1

    await asyncio.gather(*(creator(w) for w in range(32)))

asyncio.run(main())
"""


def test_kill_9_loses_no_acknowledged_write(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[3] / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, env=env, text=True
    )
    assert proc.stdout is not None
    acknowledged: list[str] = []
    deadline = time.monotonic() + 30
    while len(acknowledged) < 3000 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        acknowledged.append(line)
    os.kill(proc.pid, signal.SIGKILL)
    acknowledged.extend(proc.stdout.readlines())  # printed before the kill
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert len(acknowledged) >= 3000, "the writer did not get going"

    async def check() -> None:
        store = SQLiteStore(db, compact_interval=0)
        await store.start()
        try:
            listed = await store.list("/registry/core/pods/")
            stored = {k: o for k, o in zip(listed.keys, listed.items, strict=True)}
            newest = 0
            for line in acknowledged:
                key, rv, n = line.split()
                assert key in stored, f"acknowledged {key} is missing"
                # The stored state is the acknowledged one or a later one.
                assert int(stored[key]["metadata"]["resourceVersion"]) >= int(rv)
                if stored[key]["metadata"]["resourceVersion"] == rv:
                    assert stored[key]["spec"]["n"] == int(n)
                newest = max(newest, int(rv))
            assert store.revision >= newest
            made = await store.create("/registry/core/pods/after/p", {"metadata": {}})
            assert int(made["metadata"]["resourceVersion"]) == store.revision > newest
        finally:
            await store.close()

    asyncio.run(check())
