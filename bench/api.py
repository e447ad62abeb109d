"""API server benchmark: pod creates/s and latency, large lists, watch delivery latency.

Starts a real ``kubelite server`` (control plane only) on loopback in a temporary data
dir and drives it over HTTPS with the admin client certificate, as kubectl would.

    python bench/api.py [--repeat 3] [--pods 10000] [--json out.json]

Prints a Markdown table per measurement (median and [min-max] across repeats).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from kubelite.testing.server_process import ServerProcess, client_ssl_context

NS = "/api/v1/namespaces/default/pods"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


def pod(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "bench", "tier": "web"}},
        "spec": {"containers": [{
            "name": "app", "image": "gcr.io/google-samples/hello-app:2.0",
            "ports": [{"containerPort": 8080}],
            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
        }]},
    }


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


async def creates(http: aiohttp.ClientSession, clients: int, total: int,
                  prefix: str) -> dict[str, float]:
    latencies: list[float] = []
    per_client = total // clients

    async def client(c: int) -> None:
        for i in range(per_client):
            body = json.dumps(pod(f"{prefix}-{c}-{i}")).encode()
            t0 = time.perf_counter()
            async with http.post(NS, data=body,
                                 headers={"Content-Type": "application/json"}) as resp:
                await resp.read()
                assert resp.status == 201, resp.status
            latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*(client(c) for c in range(clients)))
    elapsed = time.perf_counter() - t0
    return {"rate": len(latencies) / elapsed, "p50": pct(latencies, 0.5) * 1000,
            "p99": pct(latencies, 0.99) * 1000}


async def list_time(http: aiohttp.ClientSession, table: bool) -> float:
    headers = {"Accept": TABLE} if table else {"Accept": "application/json"}
    t0 = time.perf_counter()
    async with http.get(NS, headers=headers) as resp:
        body = await resp.read()
        assert resp.status == 200
    del body
    return (time.perf_counter() - t0) * 1000


async def watch_latency(http: aiohttp.ClientSession, watchers: int, events: int) -> dict[str, float]:  # noqa: E501
    async with http.get("/api/v1/namespaces/default/configmaps") as resp:
        start = (await resp.json())["metadata"]["resourceVersion"]
    sent: dict[str, float] = {}
    lat: list[float] = []
    ready = asyncio.Event()
    opened = 0

    async def watcher() -> None:
        nonlocal opened
        url = (f"/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={start}"
               "&timeoutSeconds=120")
        async with http.get(url) as resp:
            opened += 1
            if opened == watchers:
                ready.set()
            got = 0
            async for line in resp.content:
                now = time.perf_counter()
                name = json.loads(line)["object"]["metadata"]["name"]
                lat.append(now - sent[name])
                got += 1
                if got == events:
                    return

    tasks = [asyncio.create_task(watcher()) for _ in range(watchers)]
    await ready.wait()
    await asyncio.sleep(0.5)
    for i in range(events):
        name = f"wl-{i}"
        sent[name] = time.perf_counter()
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
        async with http.post("/api/v1/namespaces/default/configmaps", json=body) as resp:
            assert resp.status == 201
        await asyncio.sleep(0.01)
    await asyncio.wait_for(asyncio.gather(*tasks), 60)
    return {"p50": pct(lat, 0.5) * 1000, "p99": pct(lat, 0.99) * 1000}


async def one_run(server: ServerProcess, n_pods: int, run: int) -> dict[str, Any]:
    ctx = client_ssl_context(server.kubeconfig)
    out: dict[str, Any] = {}
    async with aiohttp.ClientSession(
        base_url=server.url, connector=aiohttp.TCPConnector(ssl=ctx, limit=200)
    ) as http:
        for clients in (1, 8, 32):
            total = 600 if clients == 1 else 3200
            out[f"create_{clients}"] = await creates(http, clients, total, f"r{run}c{clients}")
        async with http.get(NS + "?limit=1") as resp:
            count = (await resp.json())["metadata"].get("remainingItemCount", 0) + 1
        if count < n_pods:
            await creates(http, 32, n_pods - count, f"r{run}fill")
        out["list_json"] = statistics.median([await list_time(http, False) for _ in range(5)])
        out["list_table"] = statistics.median([await list_time(http, True) for _ in range(5)])
        out["watch"] = await watch_latency(http, 100, 200)
        async with http.delete("/api/v1/namespaces/default/configmaps") as resp:
            await resp.read()
    return out


def summary(runs: list[dict[str, Any]]) -> str:
    def cell(values: list[float], fmt: str = "{:.0f}") -> str:
        med = statistics.median(values)
        return f"{fmt.format(med)} [{fmt.format(min(values))}-{fmt.format(max(values))}]"

    lines = ["| clients | creates/s | p50 ms | p99 ms |", "|---|---|---|---|"]
    for clients in (1, 8, 32):
        rs = [r[f"create_{clients}"] for r in runs]
        lines.append(f"| {clients} | {cell([r['rate'] for r in rs])} | "
                     f"{cell([r['p50'] for r in rs], '{:.1f}')} | "
                     f"{cell([r['p99'] for r in rs], '{:.1f}')} |")
    lines += ["", "| list of 10,000 pods | ms |", "|---|---|",
              f"| JSON (PodList) | {cell([r['list_json'] for r in runs])} |",
              f"| Table (kubectl get) | {cell([r['list_table'] for r in runs])} |",
              "", "| watch delivery, 100 watchers | ms |", "|---|---|",
              f"| p50 | {cell([r['watch']['p50'] for r in runs], '{:.1f}')} |",
              f"| p99 | {cell([r['watch']['p99'] for r in runs], '{:.1f}')} |"]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pods", type=int, default=10_000)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    results = {}
    for label, flags in (
        ("API server alone (--disable-scheduler --disable-controller-manager)",
         ["--disable-scheduler", "--disable-controller-manager"]),
        ("whole control plane (scheduler and controllers react to every pod)", []),
    ):
        runs = []
        for run in range(args.repeat):
            with tempfile.TemporaryDirectory() as d:
                server = ServerProcess(Path(d), extra_args=flags).start()
                try:
                    runs.append(asyncio.run(one_run(server, args.pods, run)))
                finally:
                    server.stop()
        results[label] = runs
        print(f"### {label}\n\n{summary(runs)}\n", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
