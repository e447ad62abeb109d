"""Runtime bench: pod sandbox + container start until running, against bare ``runc run``.

Needs root, runc, conmon and the CNI plugins. Usage: ``python bench/runtime.py [-n 20]``.
Prints medians (ms) of:

- ``runc run`` of busybox ``true`` (a bare OCI bundle; the floor)
- kubelite OciRuntime: run_pod_sandbox (CNI bridge) + create + start, until RUNNING
- the same with hostNetwork (no CNI)
- remove_pod_sandbox of a running pod (kill, CNI DEL, unmounts)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from kubelite.network import BridgeNetworkConfig, CniNetwork
from kubelite.runtime.oci import OciRuntime, killall
from kubelite.runtime.protocol import (
    ContainerConfig,
    ContainerState,
    ImageSpec,
    PodSandboxConfig,
)


def busybox_rootfs(work: Path) -> Path:
    root = work / "rootfs"
    (root / "bin").mkdir(parents=True)
    debs = work / "debs"
    debs.mkdir()
    subprocess.run(["apt-get", "-q", "-o", "APT::Sandbox::User=root", "download",
                    "busybox-static"], cwd=debs, capture_output=True)
    found = sorted(debs.glob("*.deb"))
    if found:
        subprocess.run(["dpkg-deb", "-x", str(found[-1]), str(work / "deb")], check=True)
        shutil.copy2(work / "deb" / "bin" / "busybox", root / "bin" / "busybox")
    else:
        shutil.copy2("/bin/busybox", root / "bin" / "busybox")
    for applet in subprocess.run([str(root / "bin" / "busybox"), "--list"],
                                 capture_output=True, text=True).stdout.split():
        if not (root / "bin" / applet).exists():
            (root / "bin" / applet).symlink_to("busybox")
    for d in ("proc", "sys", "dev", "etc", "tmp"):
        (root / d).mkdir(exist_ok=True)
    return root


def bare_runc(work: Path, rootfs: Path, n: int) -> list[float]:
    bundle = work / "bundle"
    bundle.mkdir()
    subprocess.run(["runc", "spec"], cwd=bundle, check=True)
    spec = json.loads((bundle / "config.json").read_text())
    spec["root"] = {"path": str(rootfs), "readonly": True}
    spec["process"]["terminal"] = False
    spec["process"]["args"] = ["true"]
    (bundle / "config.json").write_text(json.dumps(spec))
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        subprocess.run(["runc", "--root", str(work / "runc"), "run", f"bench{i}"],
                       cwd=bundle, check=True, stdin=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return times


async def kubelite_pods(work: Path, rootfs: Path, n: int, host_network: bool
                        ) -> tuple[list[float], list[float]]:
    net = CniNetwork(str(work / "cni"), BridgeNetworkConfig(
        subnet="10.88.250.0/24", bridge="klbench0", netns_prefix="klbench-"))
    rt = OciRuntime(str(work / "rt"), net, cgroup_root="kubelite-bench")
    img = ImageSpec(ref="busybox", layers=(str(rootfs),), cmd=("sh",))
    starts, removes = [], []
    try:
        for i in range(n):
            sc = PodSandboxConfig(name=f"p{i}", namespace="bench", uid=f"u{i}",
                                  log_directory=str(work / "logs" / f"p{i}"),
                                  host_network=host_network)
            t0 = time.perf_counter()
            sid = await rt.run_pod_sandbox(sc)
            cid = await rt.create_container(
                sid, ContainerConfig(name="c", image=img, command=("sleep", "1000"),
                                     log_path="c/0.log"), sc)
            await rt.start_container(cid)
            assert (await rt.container_status(cid)).state == ContainerState.RUNNING
            starts.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            await rt.remove_pod_sandbox(sid)
            removes.append(time.perf_counter() - t0)
    finally:
        await killall(rt.root, net)
    return starts, removes


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} ms"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=20)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("needs root", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="kubelite-bench-") as tmp:
        work = Path(tmp)
        rootfs = busybox_rootfs(work)
        bare = bare_runc(work, rootfs, args.n)
        pod_starts, pod_removes = asyncio.run(kubelite_pods(work, rootfs, args.n, False))
        host_starts, _ = asyncio.run(kubelite_pods(work, rootfs, args.n, True))
    print(f"n = {args.n}, medians")
    print(f"bare `runc run` busybox true:                      {ms(bare)}")
    print(f"kubelite pod (CNI bridge) sandbox+container running: {ms(pod_starts)}")
    print(f"kubelite pod (hostNetwork) sandbox+container running: {ms(host_starts)}")
    print(f"kubelite remove_pod_sandbox of a running pod:        {ms(pod_removes)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
