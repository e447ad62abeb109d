"""Scale a Deployment to many pods and back to 0 against a real server, measuring
``kubectl get ns`` back to back meanwhile (for the e2e acceptance test and the bench).

Contract: :func:`scale_and_measure` returns how long each phase took and, per phase
(``idle``, ``scale-up``, ``scale-down``, ``after``), the count, median, p99 and maximum of
the ``kubectl get ns`` latencies and how many failed. Pods stay Pending without an agent.
"""

from __future__ import annotations

import statistics
import threading
import time
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


def scale_and_measure(server: ServerProcess, pods: int, timeout: float) -> dict[str, Any]:
    """Apply a Deployment of ``pods`` replicas, wait until its ReplicaSet counts them,
    scale it to 0 and wait until none is left (see the module contract)."""
    result: dict[str, Any] = {"pods": pods}
    with Prober(server) as prober:
        time.sleep(1)
        prober.phase = "scale-up"
        r = server.kubectl("apply", "-f", "-", input=DEPLOYMENT % pods)
        if r.returncode != 0:
            raise RuntimeError(r.stderr)
        result["scale_up_s"] = wait_count(server, pods, timeout)
        prober.phase = "scale-down"
        r = server.kubectl("scale", "deployment/flood", "--replicas=0")
        if r.returncode != 0:
            raise RuntimeError(r.stderr)
        result["scale_down_s"] = wait_count(server, 0, timeout)
        prober.phase = "after"
        time.sleep(2)
    for phase, values in prober.latencies.items():
        result[phase] = {"n": len(values), "p50": statistics.median(values),
                         "p99": percentile(values, 0.99), "max": max(values),
                         "failures": prober.failures.get(phase, 0)}
    return result
