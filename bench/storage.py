"""Storage benchmarks: creates/s and latency by concurrency, cached lists, watch fan-out.

Run: python bench/storage.py [--repeat 3] [--quick]
Prints a Markdown section for docs/benchmarks.md. Numbers are medians over ``--repeat``
runs with the spread (min-max) in brackets.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from kubelite.storage.interface import Store
from kubelite.storage.sqlite import SQLiteStore
from kubelite.storage.watchcache import WatchCache

POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "",
        "namespace": "default",
        "uid": "0b6f4c9e-2d55-4a7e-9a53-8d7c4f7c2a11",
        "creationTimestamp": "2025-01-01T00:00:00Z",
        "labels": {"app": "hello", "pod-template-hash": "7d9f8c6b5"},
        "annotations": {"kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z"},
        "managedFields": [
            {
                "manager": "kubectl-run",
                "operation": "Update",
                "apiVersion": "v1",
                "time": "2025-01-01T00:00:00Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:run": {}}}},
            }
        ],
    },
    "spec": {
        "containers": [
            {
                "name": "hello",
                "image": "gcr.io/google-samples/hello-app:2.0",
                "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "imagePullPolicy": "IfNotPresent",
                "volumeMounts": [
                    {
                        "name": "kube-api-access",
                        "readOnly": True,
                        "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                    }
                ],
            }
        ],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "serviceAccountName": "default",
        "schedulerName": "default-scheduler",
        "enableServiceLinks": True,
        "preemptionPolicy": "PreemptLowerPriority",
        "priority": 0,
        "tolerations": [
            {
                "key": "node.kubernetes.io/not-ready",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            }
        ],
    },
    "status": {"phase": "Pending", "qosClass": "Burstable"},
}


_POD_JSON = orjson.dumps(POD)


def pod(name: str, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = orjson.loads(_POD_JSON)
    out["metadata"]["name"] = name
    out.update(extra)
    return out


class GCPauses:
    """Records how long the collector stopped the process, by generation."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._start = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        elif info["generation"] == 2:
            self.pauses.append(time.perf_counter() - self._start)

    def take(self) -> float:
        """The longest full collection since the last call, in ms."""
        out = max(self.pauses, default=0.0) * 1e3
        self.pauses.clear()
        return out


GC = GCPauses()


def spread(values: list[float], fmt: str = "{:.0f}") -> str:
    med = statistics.median(values)
    if len(values) == 1:
        return fmt.format(med)
    return f"{fmt.format(med)} [{fmt.format(min(values))}-{fmt.format(max(values))}]"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


async def with_store(make: Callable[[Path], Store], run: Callable[[Store], Awaitable[Any]]) -> Any:
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        store = make(Path(tmp))
        await store.start()
        try:
            return await run(store)
        finally:
            await store.close()


def creates(
    clients: int, total: int, rate: float = 0
) -> Callable[[Store], Awaitable[tuple[float, float, float]]]:
    """Creates/s, p50 and p99 latency (ms) with ``clients`` concurrent creators, as fast as
    they can or, with ``rate``, paced to that many creates/s in all."""

    async def run(store: Store) -> tuple[float, float, float]:
        per = total // clients
        latencies: list[float] = []
        interval = clients / rate if rate else 0.0
        begin = time.perf_counter()

        async def client(c: int) -> None:
            for i in range(per):
                obj = pod(f"c{c}-{i}")  # as a server decodes each request's body
                if interval:
                    delay = begin + (i + c / clients) * interval - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                t0 = time.perf_counter()
                await store.create(f"/registry/core/pods/default/c{c}-{i}-{store.revision}", obj)
                latencies.append(time.perf_counter() - t0)

        start = time.perf_counter()
        await asyncio.gather(*(client(c) for c in range(clients)))
        elapsed = time.perf_counter() - start
        return len(latencies) / elapsed, pct(latencies, 0.5) * 1e3, pct(latencies, 0.99) * 1e3

    return run


def listing(count: int, rounds: int) -> Callable[[Store], Awaitable[tuple[float, float]]]:
    """Median ms to list ``count`` pods from the cache, and to list and encode them."""

    async def run(store: Store) -> tuple[float, float]:
        sem = asyncio.Semaphore(64)

        async def make(i: int) -> None:
            async with sem:
                await store.create(f"/registry/core/pods/default/p{i:05d}", pod(f"p{i:05d}"))

        await asyncio.gather(*(make(i) for i in range(count)))
        only: list[float] = []
        encoded: list[float] = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            result = await store.list("/registry/core/pods/default/")
            t1 = time.perf_counter()
            body = orjson.dumps(
                {
                    "kind": "PodList",
                    "apiVersion": "v1",
                    "metadata": {"resourceVersion": str(result.revision)},
                    "items": result.items,
                }
            )
            t2 = time.perf_counter()
            assert len(result.items) == count and body
            only.append((t1 - t0) * 1e3)
            encoded.append((t2 - t0) * 1e3)
        return statistics.median(only), statistics.median(encoded)

    return run


def watch_latency(
    watchers: int, writers: int, events: int
) -> Callable[[Store], Awaitable[tuple[float, float, float]]]:
    """p50/p99/max ms from calling create to each of ``watchers`` receiving the event."""

    async def run(store: Store) -> tuple[float, float, float]:
        latencies: list[float] = []
        start_rev = store.revision
        target = start_rev + events

        async def watcher() -> None:
            w = store.watch("/registry/core/pods/", start_rev)
            async for ev in w:
                latencies.append(time.perf_counter() - ev.obj["status"]["t0"])
                if ev.revision >= target:
                    break
            w.close()

        tasks = [asyncio.create_task(watcher()) for _ in range(watchers)]
        await asyncio.sleep(0.05)
        per = events // writers

        async def writer(n: int) -> None:
            for i in range(per):
                obj = pod(f"w{n}-{i}", status={"t0": time.perf_counter()})
                await store.create(f"/registry/core/pods/default/w{n}-{i}", obj)
                await asyncio.sleep(0.002)  # a steady stream, not a flood

        await asyncio.gather(*(writer(n) for n in range(writers)))
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        assert len(latencies) == watchers * per * writers
        return pct(latencies, 0.5) * 1e3, pct(latencies, 0.99) * 1e3, max(latencies) * 1e3

    return run


def cached(sync: str = "NORMAL") -> Callable[[Path], Store]:
    return lambda p: WatchCache(SQLiteStore(p / "db", synchronous=sync))  # type: ignore[arg-type]


def raw(sync: str = "NORMAL") -> Callable[[Path], Store]:
    return lambda p: SQLiteStore(p / "db", synchronous=sync)  # type: ignore[arg-type]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 2000 if args.quick else 6000
    lines = [
        "## Storage",
        "",
        f"`python bench/storage.py --repeat {args.repeat}{' --quick' if args.quick else ''}`"
        f"; {os.cpu_count()} cores (shared with other work), Python "
        f"{sys.version.split()[0]}, SQLite {__import__('sqlite3').sqlite_version}. "
        "Median of the runs, [min-max] across runs. Pod objects of about 1.6 KB of JSON.",
        "",
        "### Creates",
        "",
        "| store | clients | creates/s | p50 ms | p99 ms | longest full GC, ms |",
        "|---|---|---|---|---|---|",
    ]
    setups = [
        ("WatchCache(SQLite), synchronous=NORMAL", cached("NORMAL")),
        ("SQLite alone, synchronous=NORMAL", raw("NORMAL")),
        ("WatchCache(SQLite), synchronous=FULL", cached("FULL")),
    ]
    for label, make in setups:
        for clients in (1, 8, 32):
            GC.take()
            runs = [await with_store(make, creates(clients, n)) for _ in range(args.repeat)]
            rate, p50, p99 = zip(*runs, strict=True)
            row = f"| {label} | {clients} | {spread(list(rate))} | "
            row += f"{spread(list(p50), '{:.2f}')} | {spread(list(p99), '{:.2f}')} | "
            row += f"{GC.take():.0f} |"
            lines.append(row)
            print(row, file=sys.stderr)
    GC.take()
    runs = [await with_store(cached(), creates(32, n, 4000)) for _ in range(args.repeat)]
    rate, p50, p99 = zip(*runs, strict=True)
    row = f"| WatchCache(SQLite), paced to 4,000/s | 32 | {spread(list(rate))} | "
    row += f"{spread(list(p50), '{:.2f}')} | {spread(list(p99), '{:.2f}')} | "
    row += f"{GC.take():.0f} |"
    lines.append(row)
    print(row, file=sys.stderr)
    lines += [
        "",
        "### List of 10,000 pods from the watch cache",
        "",
        "| list only, ms | list + orjson encoding of the PodList, ms |",
        "|---|---|",
    ]
    runs = [await with_store(cached(), listing(10_000, 10)) for _ in range(args.repeat)]
    only, enc = zip(*runs, strict=True)
    lines.append(f"| {spread(list(only), '{:.1f}')} | {spread(list(enc), '{:.1f}')} |")
    print(lines[-1], file=sys.stderr)
    lines += [
        "",
        "### Watch delivery to 100 watchers",
        "",
        "From calling `create` (so including the commit) to each watcher receiving the event;"
        " writers create with 2 ms pauses.",
        "",
        "| writers | events | p50 ms | p99 ms | max ms |",
        "|---|---|---|---|---|",
    ]
    for writers in (1, 8):
        events = 400 if args.quick else 1000
        runs = [
            await with_store(cached(), watch_latency(100, writers, events))
            for _ in range(args.repeat)
        ]
        p50, p99, mx = zip(*runs, strict=True)
        row = f"| {writers} | {events} | {spread(list(p50), '{:.2f}')} | "
        row += f"{spread(list(p99), '{:.2f}')} | {spread(list(mx), '{:.1f}')} |"
        lines.append(row)
        print(row, file=sys.stderr)
    print("\n".join(lines))


if __name__ == "__main__":
    asyncio.run(main())
