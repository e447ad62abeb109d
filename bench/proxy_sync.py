"""Service proxy sync cost for N Services with M endpoints each: the first, whole apply,
then one endpoint changed per run, planned whole and applied in place (as the proxy
does); root, in a network namespace this script creates and removes.

    sudo PYTHONPATH=src python3 bench/proxy_sync.py [--services 1000] [--endpoints 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import time
from typing import Any

from kubelite.proxy.model import service_ports
from kubelite.proxy.nft import run_nft
from kubelite.proxy.planner import ProxyConfig, plan, update_text


def objects(n: int, m: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    svcs, slices = [], []
    for i in range(n):
        svcs.append({"metadata": {"namespace": "default", "name": f"s{i}"},
                     "spec": {"type": "NodePort", "clusterIP": f"10.43.{i // 250}.{i % 250 + 1}",
                              "ports": [{"port": 80, "nodePort": 30000 + i}]}})
        slices.append({"metadata": {"namespace": "default", "name": f"s{i}-a",
                                    "labels": {"kubernetes.io/service-name": f"s{i}"}},
                       "ports": [{"port": 8080}],
                       "endpoints": [{"addresses": [f"10.42.{(i * m + j) // 250}."
                                                    f"{(i * m + j) % 250 + 1}"],
                                      "nodeName": "n1"} for j in range(m)]})
    return svcs, slices


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--services", type=int, default=1000)
    ap.add_argument("--endpoints", type=int, default=5)
    ap.add_argument("--runs", type=int, default=11)
    a = ap.parse_args()
    svcs, slices = objects(a.services, a.endpoints)
    cfg = ProxyConfig(table="klbench", node_name="n1", node_ips=("192.0.2.1",))
    netns = f"klbench{os.getpid()}"
    subprocess.run(["ip", "netns", "add", netns], check=True)
    plan_s, apply_s = [], []
    try:
        t0 = time.perf_counter()
        last = plan(service_ports(svcs, slices), cfg)
        whole = last.text(cfg.table)
        asyncio.run(run_nft(whole, netns))
        first = time.perf_counter() - t0
        for k in range(a.runs):
            slices[k % len(slices)]["endpoints"][0]["addresses"] = [f"10.42.250.{k + 1}"]
            t0 = time.perf_counter()
            new = plan(service_ports(svcs, slices), cfg)
            text = update_text(last, new, cfg.table)
            assert text is not None
            t1 = time.perf_counter()
            asyncio.run(run_nft(text, netns))
            last = new
            plan_s.append(t1 - t0)
            apply_s.append(time.perf_counter() - t1)
    finally:
        subprocess.run(["ip", "netns", "del", netns], check=False)
    total = [p + q for p, q in zip(plan_s, apply_s, strict=True)]
    print(f"{a.services} Services x {a.endpoints} endpoints, table {len(whole) / 1e6:.1f} MB, "
          f"first apply {first * 1000:.0f} ms; {a.runs} changes: "
          f"plan median {statistics.median(plan_s) * 1000:.0f} ms, "
          f"apply median {statistics.median(apply_s) * 1000:.0f} ms, "
          f"change-to-rules max {max(total) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
