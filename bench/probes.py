"""Benchmark: probe scheduling on one node (issue: 50 pods, 3 probes each, period 1 s).

The kubelet with the in-process API server and FakeRuntime (exec probes answer from
memory); network probes hit real servers on 127.0.0.1 run by a child process (so their
CPU is not counted): every pod has an ``app`` container with an exec liveness probe and
an httpGet readiness probe, and a ``side`` container with a tcpSocket liveness probe, all
at periodSeconds 1 (150 probes a second). Drift = how late each scheduled tick starts.
CPU = this process's CPU time over wall time (kubelet + in-process API server, which has
nothing to write once every pod is Ready).

    python bench/probes.py [--pods 50] [--seconds 20] [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))

from kubelite.client.resources import PODS  # noqa: E402
from kubelite.kubelet.config import KubeletConfig, KubeletSettings  # noqa: E402
from kubelite.kubelet.kubelet import Kubelet  # noqa: E402
from kubelite.testing.fake_images import FakeImageService  # noqa: E402
from kubelite.testing.fake_runtime import FakeRuntime  # noqa: E402
from kubelite.testing.inprocess import InProcessAPI  # noqa: E402

SERVERS = r"""
import asyncio, sys
async def http(r, w):
    try:
        await r.readuntil(b"\r\n\r\n")
        w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await w.drain()
    except Exception:
        pass
    w.close()
async def tcp(r, w):
    w.close()
async def main():
    a = await asyncio.start_server(http, "127.0.0.1", 0, backlog=1024)
    b = await asyncio.start_server(tcp, "127.0.0.1", 0, backlog=1024)
    print(a.sockets[0].getsockname()[1], b.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


def pod(i: int, http_port: int, tcp_port: int) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"probed-{i}", "namespace": "default"},
            "spec": {"nodeName": "node1", "containers": [
                {"name": "app", "image": "busybox",
                 "livenessProbe": {"exec": {"command": ["true"]}, "periodSeconds": 1},
                 "readinessProbe": {"httpGet": {"host": "127.0.0.1", "port": http_port,
                                                "path": "/healthz"}, "periodSeconds": 1}},
                {"name": "side", "image": "busybox",
                 "livenessProbe": {"tcpSocket": {"host": "127.0.0.1", "port": tcp_port},
                                   "periodSeconds": 1}}]}}


def start_servers() -> tuple[subprocess.Popen[str], int, int]:
    servers = subprocess.Popen([sys.executable, "-c", SERVERS], stdout=subprocess.PIPE,
                               text=True)
    assert servers.stdout is not None
    http_port, tcp_port = (int(x) for x in servers.stdout.readline().split())
    return servers, http_port, tcp_port


async def run(n_pods: int, seconds: float) -> dict[str, float]:
    servers, http_port, tcp_port = start_servers()
    drifts: list[float] = []
    measuring = False

    def on_tick(lateness: float) -> None:
        if measuring:
            drifts.append(lateness)

    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with InProcessAPI(Path(tmp)) as api:
                kubelet = Kubelet(api.client(), FakeRuntime(), FakeImageService(),
                                  KubeletConfig(), KubeletSettings(
                                      node_name="node1", root_dir=Path(tmp) / "kubelet",
                                      node_ip="10.0.0.5", use_tmpfs=False))
                kubelet.prober.on_tick = on_tick
                await kubelet.start()
                client = api.client()
                for i in range(n_pods):
                    await client.create(PODS, pod(i, http_port, tcp_port))
                t0 = time.monotonic()
                while True:
                    items = (await client.list(PODS, "default"))["items"]
                    ready = sum(1 for p in items for c in (p.get("status") or {}).get(
                        "conditions") or [] if c["type"] == "Ready" and c["status"] == "True")
                    if ready == n_pods:
                        break
                    if time.monotonic() - t0 > 60:
                        raise SystemExit(f"only {ready}/{n_pods} pods became Ready")
                    await asyncio.sleep(0.2)
                all_ready = time.monotonic() - t0
                await asyncio.sleep(2)
                probes0 = sum(w.probes for e in kubelet.prober.pods.values()
                              for w in e.workers.values())
                measuring = True
                cpu0, wall0 = time.process_time(), time.monotonic()
                await asyncio.sleep(seconds)
                cpu1, wall1 = time.process_time(), time.monotonic()
                measuring = False
                probes1 = sum(w.probes for e in kubelet.prober.pods.values()
                              for w in e.workers.values())
                await kubelet.stop()
    finally:
        servers.kill()
    wall = wall1 - wall0
    return {"pods": n_pods, "ticks": len(drifts), "p50": pct(drifts, 50) * 1000,
            "p99": pct(drifts, 99) * 1000, "max": max(drifts) * 1000,
            "probes_per_s": (probes1 - probes0) / wall, "cpu": (cpu1 - cpu0) / wall * 100,
            "ready_s": all_ready, "seconds": wall}


def report(r: dict[str, float]) -> str:
    return (
        "## Probes\n\n"
        "`python bench/probes.py --pods 50 --seconds 20`: the kubelet with the in-process API "
        "server and FakeRuntime; per pod an exec liveness and an httpGet readiness probe on "
        "one container and a tcpSocket liveness probe on a second, all at periodSeconds 1, "
        "network probes against real servers on 127.0.0.1 (a child process). Drift: how "
        "late each scheduled probe tick starts. CPU: the benchmark process (kubelet and the "
        "idle in-process API server) over wall time, in % of one core.\n\n"
        f"Machine: {platform.machine()}, 2 cores shared with other work, Python "
        f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}.\n\n"
        "| pods | probes/s | ticks measured | drift p50 | drift p99 | drift max | CPU | "
        "all Ready after |\n|---|---|---|---|---|---|---|---|\n"
        f"| {r['pods']} | {r['probes_per_s']:.0f} | {r['ticks']} | {r['p50']:.1f} ms | "
        f"{r['p99']:.1f} ms | {r['max']:.1f} ms | {r['cpu']:.0f}% | {r['ready_s']:.1f} s |\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--write", type=Path, default=None)
    args = ap.parse_args()
    r = asyncio.run(run(args.pods, args.seconds))
    text = report(r)
    print(text)
    if args.write:
        doc = args.write.read_text()
        if "## Probes" in doc:
            head, _, rest = doc.partition("## Probes")
            nxt = rest.find("\n## ")
            doc = head + text + (rest[nxt + 1:] if nxt >= 0 else "")
        else:
            doc = doc.rstrip("\n") + "\n\n" + text
        args.write.write_text(doc)


if __name__ == "__main__":
    main()
