"""Benchmark: pod start-up latency, image already present (the pod-startup SLI).

A real ``kubelite server`` (API server + scheduler + kubelet on runc) with the test
registry; the time from the create request to the first watch event showing the pod
Running. One pod at a time (p50/p99 over ``--pods``), then ``--burst`` pods at once.
Side by side in the same run: ``podman kube play`` of the same pod (until the command
returns with the pod running) and bare ``runc run -d`` of the same busybox bundle (the
floor). Also the server's RSS with the burst pods running. Needs root.

    python bench/pod_startup.py [--pods 30] [--burst 20] [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))

import yaml  # noqa: E402

from kubelite.client.config import load_kubeconfig  # noqa: E402
from kubelite.client.resources import PODS  # noqa: E402
from kubelite.client.rest import ApiClient  # noqa: E402
from kubelite.testing.registry import TestRegistry  # noqa: E402
from kubelite.testing.server_process import ServerProcess  # noqa: E402


def pod_doc(name: str, image: str = "busybox:latest") -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"terminationGracePeriodSeconds": 0, "containers": [{
                "name": "c", "image": image, "imagePullPolicy": "IfNotPresent",
                "command": ["sleep", "3600"]}]}}


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


async def kubelite_latencies(client: ApiClient, prefix: str, n: int, burst: bool) -> list[float]:
    created: dict[str, float] = {}
    running: dict[str, float] = {}
    lst = await client.list(PODS, "default")
    rv = lst["metadata"]["resourceVersion"]
    done = asyncio.Event()

    async def watch() -> None:
        async for ev in client.watch(PODS, "default", resource_version=rv):
            name = ev.object["metadata"]["name"]
            if name.startswith(prefix) and name not in running and \
                    (ev.object.get("status") or {}).get("phase") == "Running":
                running[name] = time.perf_counter()
                if len(running) == n:
                    done.set()
                    return

    task = asyncio.create_task(watch())
    await asyncio.sleep(0.2)
    names = [f"{prefix}{i}" for i in range(n)]
    if burst:
        async def create(name: str) -> None:
            created[name] = time.perf_counter()
            await client.create(PODS, pod_doc(name), "default")
        await asyncio.gather(*(create(nm) for nm in names))
    else:
        for name in names:
            created[name] = time.perf_counter()
            await client.create(PODS, pod_doc(name), "default")
            while name not in running:  # noqa: ASYNC110
                await asyncio.sleep(0.002)
    await asyncio.wait_for(done.wait(), 120)
    task.cancel()
    return [running[nm] - created[nm] for nm in names]


PODMAN = ["podman", "--cgroup-manager", "cgroupfs"]

# podman 4.3 asks for RLIMIT_NPROC 1048576 in its infra container, above this host's hard
# limit (root has no CAP_SYS_RESOURCE here), whatever containers.conf says. So podman runs
# runc through this wrapper, which clamps the bundle's rlimits to the hard limits before
# calling runc: what kubelite's own runtime does. It adds one Python start (~20 ms) to
# each `runc create`, which counts against podman.
RUNC_CLAMP = """#!/usr/bin/env python3
import json, os, resource, sys
args = sys.argv[1:]
if "create" in args or "run" in args:
    bundle = "."
    for i, a in enumerate(args):
        if a in ("--bundle", "-b") and i + 1 < len(args):
            bundle = args[i + 1]
        elif a.startswith("--bundle="):
            bundle = a.split("=", 1)[1]
    path = os.path.join(bundle, "config.json")
    with open(path) as f:
        spec = json.load(f)
    for rl in spec.get("process", {}).get("rlimits") or []:
        hard = resource.getrlimit(getattr(resource, rl["type"]))[1]
        if hard != resource.RLIM_INFINITY:
            rl["hard"] = min(rl["hard"], hard)
            rl["soft"] = min(rl["soft"], rl["hard"])
    with open(path, "w") as f:
        json.dump(spec, f)
os.execvp("runc", ["runc", *args])
"""


def podman_env(workdir: Path) -> dict[str, str]:
    """runc (crun refuses this host's cgroup mode) behind the rlimit-clamping wrapper."""
    wrapper = workdir / "runc-clamp"
    wrapper.write_text(RUNC_CLAMP)
    wrapper.chmod(0o755)
    conf = workdir / "containers.conf"
    conf.write_text(f'[engine]\nruntime = "runcclamp"\n[engine.runtimes]\n'
                    f'runcclamp = ["{wrapper}"]\n')
    return {**os.environ, "CONTAINERS_CONF": str(conf)}


def podman_latencies(image: str, n: int, workdir: Path) -> list[float]:
    env = podman_env(workdir)
    out = []
    files = []
    try:
        for i in range(n):
            f = workdir / f"pm{i}.yaml"
            f.write_text(yaml.safe_dump(pod_doc(f"kubelite-bench-pm{i}", image)))
            files.append(f)
            t = time.perf_counter()
            r = subprocess.run([*PODMAN, "kube", "play", "--tls-verify=false", str(f)],
                               capture_output=True, text=True, check=False, env=env)
            out.append(time.perf_counter() - t)
            if r.returncode != 0:
                raise RuntimeError(r.stderr)
    finally:
        for f in files:
            subprocess.run([*PODMAN, "kube", "down", str(f)], capture_output=True, check=False,
                           env=env)
    return out


def runc_latencies(layout: Path, n: int, workdir: Path) -> list[float]:
    bundle = workdir / "bundle"
    subprocess.run(["umoci", "unpack", "--image", f"{layout}:busybox-latest", str(bundle)],
                   check=True, capture_output=True)
    cfg = json.loads((bundle / "config.json").read_text())
    cfg["process"]["args"] = ["sleep", "3600"]
    cfg["process"]["terminal"] = False
    (bundle / "config.json").write_text(json.dumps(cfg))
    root = workdir / "runc-root"
    out = []
    for i in range(n):
        t = time.perf_counter()
        subprocess.run(["runc", "--root", str(root), "run", "-d", "--bundle", str(bundle),
                        f"floor{i}"], check=True, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out.append(time.perf_counter() - t)
        subprocess.run(["runc", "--root", str(root), "delete", "-f", f"floor{i}"],
                       capture_output=True, check=False)
    return out


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def row(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (f"| {name} | {len(ms)} | {statistics.median(ms):.0f} ms | {pct(ms, 99):.0f} ms | "
            f"{min(ms):.0f}-{max(ms):.0f} |")


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=30)
    ap.add_argument("--burst", type=int, default=20)
    ap.add_argument("--write", type=Path, default=None)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kubelite-bench-"))
    rows: list[str] = []
    with TestRegistry() as reg:
        (work / "kubelet.yaml").write_text(yaml.safe_dump(
            {"kind": "KubeletConfiguration", "staticPodPath": str(work / "manifests")}))
        server = ServerProcess(work / "data", disable_agent=False, extra_args=[
            "--node-name", "bench", "--kubelet-config", str(work / "kubelet.yaml"),
            "--cluster-cidr", "10.79.0.0/16", "--registries", str(reg.registries_yaml)])
        (work / "data").mkdir()
        server.start(60)
        client = ApiClient(load_kubeconfig(server.kubeconfig))
        try:
            await kubelite_latencies(client, "warm", 1, False)  # pulls the image
            seq = await kubelite_latencies(client, "seq", args.pods, False)
            burst = await kubelite_latencies(client, "burst", args.burst, True)
            assert server.proc is not None
            mem = rss_mib(server.proc.pid)
            rows.append(row("kubelite: one pod at a time", seq))
            rows.append(row(f"kubelite: {args.burst} pods at once", burst))
        finally:
            await client.close()
            server.stop()
            subprocess.run([sys.executable, "-m", "kubelite.cli.main", "killall",  # noqa: ASYNC221
                            "--data-dir",
                            str(work / "data"), "--cluster-cidr", "10.79.0.0/24"],
                           env={**os.environ, "PYTHONPATH": str(SRC)}, capture_output=True,
                           check=False)
        if shutil.which("podman"):
            image = f"{reg.host}/library/busybox:latest"
            subprocess.run([*PODMAN, "pull", "--tls-verify=false", image],  # noqa: ASYNC221
                           capture_output=True, check=False, env=podman_env(work))
            try:
                rows.append(row("`podman kube play` (one at a time)",
                                podman_latencies(image, args.pods, work)))
            except RuntimeError as exc:
                last = str(exc).strip().splitlines()[-3:]
                rows.append("| `podman kube play` | - | failed on this host: "
                            + " ".join(last).replace("|", "/")[:300] + " | | |")
        rows.append(row("bare `runc run -d` (floor)",
                        runc_latencies(reg.oci_layout, args.pods, work)))
    shutil.rmtree(work, ignore_errors=True)
    text = "\n".join([
        "## Pod start-up",
        "",
        f"`python bench/pod_startup.py --pods {args.pods} --burst {args.burst}` (root): a "
        "busybox `sleep` pod, image already present, from the create request to the first "
        "watch event with phase Running (kubelite), until `podman kube play` returns "
        "(podman), until `runc run -d` returns (floor).",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}. Server RSS with the "
        f"{args.burst} burst pods and {args.pods + 1} others running: {mem:.0f} MiB.",
        "",
        "| what | pods | p50 | p99 | min-max |",
        "|---|---|---|---|---|",
        *rows, ""])
    print(text)
    if args.write:
        doc = args.write.read_text() if args.write.exists() else "# Benchmarks\n"
        start = doc.find("## Pod start-up")
        if start != -1:
            end = doc.find("\n## ", start + 1)
            doc = doc[:start] + doc[end + 1:] if end != -1 else doc[:start]
        args.write.write_text(doc.rstrip() + "\n\n" + text)


if __name__ == "__main__":
    asyncio.run(main())
