"""Cost of decoding one create body: JSON parse, typed decoding against the kind's schema
(which bounds depth on the way), the depth bound alone (what a custom resource pays); and
of the bounded YAML path (event pre-scan plus load).

    PYTHONPATH=src python bench/decoding.py [--n 20000]

Prints microseconds per body (median of 5 runs) for bench/api.py's pod.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))

from api import pod

from kubelite.api import nesting, scheme
from kubelite.apiserver import codec, decoding, typed, yamlbody


def per_call(fn: Callable[[], object], n: int) -> float:
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        runs.append((time.perf_counter() - t0) / n * 1e6)
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    n = ap.parse_args().n
    res = scheme.lookup("", "v1", "pods")
    assert res is not None
    body = json.dumps(pod("bench")).encode()
    ybody = yaml.safe_dump(pod("bench")).encode()
    obj = codec.decode_object(body, "application/json")
    decoding.typed_object(res, obj, "Warn", body=True)  # compile the schema once
    rows = [
        ("JSON parse", per_call(lambda: codec.decode_object(
            body, "application/json"), n)),
        ("depth bound alone (schema-less kinds)",
         per_call(lambda: nesting.check_depth(obj), n)),
        ("typed decoding with depth bound (Pod)",
         per_call(lambda: typed.decode(obj, "", "v1", "Pod"), n)),
        ("YAML event pre-scan", per_call(lambda: yamlbody.scan(ybody), n // 10)),
        ("YAML pre-scan + load", per_call(lambda: codec.decode_object(
            ybody, "application/yaml"), n // 10)),
    ]
    print("| step | us per body |\n|---|---|")
    for name, us in rows:
        print(f"| {name} | {us:.1f} |")


if __name__ == "__main__":
    main()
