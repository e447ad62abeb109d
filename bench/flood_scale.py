"""Scale a Deployment to many pods and back to 0, measuring ``kubectl get ns`` meanwhile.

Starts a real ``kubelite server`` (control plane only: pods stay Pending) in a temporary
data dir, and while the ReplicaSet controller creates and then deletes the pods, runs
``kubectl get ns`` back to back and records each latency.

    PYTHONPATH=src python bench/flood_scale.py [--pods 5000] [--json out.json]

Prints the latency percentiles per phase and how long each phase took.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from kubelite.testing.server_process import ServerProcess

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: flood}
spec:
  replicas: %d
  selector: {matchLabels: {app: flood}}
  template:
    metadata: {labels: {app: flood}}
    spec: {containers: [{name: c, image: busybox}]}
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


class Prober:
    """``kubectl get ns`` back to back in a thread; latencies by phase."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.phase = "idle"
        self.latencies: dict[str, list[float]] = {}
        self.failures: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            phase = self.phase
            t = time.monotonic()
            out = self.server.kubectl("get", "ns", "--request-timeout=30s", timeout=40)
            took = time.monotonic() - t
            self.latencies.setdefault(phase, []).append(took)
            if out.returncode != 0:
                self.failures[phase] = self.failures.get(phase, 0) + 1
            time.sleep(0.05)

    def __enter__(self) -> Prober:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def pod_count(server: ServerProcess) -> int:
    out = server.kubectl("get", "rs", "-l", "app=flood", "-o",
                         "jsonpath={.items[*].status.replicas}", timeout=60)
    return sum(int(x) for x in out.stdout.split()) if out.returncode == 0 else -1


def wait_count(server: ServerProcess, want: int, timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if pod_count(server) == want:
            return time.monotonic() - start
        time.sleep(0.5)
    raise TimeoutError(f"{want} pods not reached within {timeout}s (at {pod_count(server)})")


def run(pods: int, timeout: float, data_dir: Path | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as d:
        server = ServerProcess(data_dir or Path(d)).start()
        try:
            result: dict[str, Any] = {"pods": pods}
            with Prober(server) as prober:
                time.sleep(1)
                prober.phase = "scale-up"
                r = server.kubectl("apply", "-f", "-", input=DEPLOYMENT % pods)
                assert r.returncode == 0, r.stderr
                result["scale_up_s"] = wait_count(server, pods, timeout)
                prober.phase = "scale-down"
                r = server.kubectl("scale", "deployment/flood", "--replicas=0")
                assert r.returncode == 0, r.stderr
                result["scale_down_s"] = wait_count(server, 0, timeout)
                prober.phase = "after"
                time.sleep(2)
            for phase, values in prober.latencies.items():
                result[phase] = {"n": len(values), "p50": statistics.median(values),
                                 "p99": percentile(values, 0.99), "max": max(values),
                                 "failures": prober.failures.get(phase, 0)}
            return result
        finally:
            server.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=5000)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    result = run(args.pods, args.timeout)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
