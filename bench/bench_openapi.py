"""Time to build the OpenAPI v3 documents and to apply a strategic merge patch.

Run: python bench/bench_openapi.py
"""

from __future__ import annotations

import time

from kubelite.apiserver.openapi import openapi
from kubelite.apiserver.patch import smp


def main() -> None:
    t0 = time.perf_counter()
    openapi.definitions()
    t1 = time.perf_counter()
    openapi.warm()
    t2 = time.perf_counter()
    sizes = {p: len(openapi.document(p)) for p in (openapi.gv_path(g, v)
                                                   for g, v in openapi.served_group_versions())}
    schema = openapi.schema_for("", "v1", "Pod")
    t3 = time.perf_counter()
    live = {"spec": {"containers": [{"name": f"c{i}", "image": "x",
                                     "env": [{"name": f"E{j}", "value": "v"}
                                             for j in range(20)]} for i in range(5)]}}
    patch = {"spec": {"$setElementOrder/containers": [{"name": f"c{i}"} for i in range(5)],
                      "containers": [{"name": "c3", "image": "y"}]}}
    n = 1000
    t4 = time.perf_counter()
    for _ in range(n):
        smp.apply(live, patch, schema)
    t5 = time.perf_counter()
    print(f"load definitions: {1000 * (t1 - t0):.1f} ms")
    print(f"build + serialise all documents: {1000 * (t2 - t1):.1f} ms")
    print(f"document sizes: {sizes}")
    print(f"resolve Pod schema: {1000 * (t3 - t2):.1f} ms")
    print(f"strategic merge patch (5 containers x 20 env): {1e6 * (t5 - t4) / n:.0f} us")


if __name__ == "__main__":
    main()
