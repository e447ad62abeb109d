"""Scale a Deployment to many pods and back to 0, measuring ``kubectl get ns`` meanwhile.

Starts a real ``kubelite server`` (control plane only: pods stay Pending) in a temporary
data dir; see :mod:`kubelite.testing.flood`.

    PYTHONPATH=src python bench/flood_scale.py [--pods 5000] [--json out.json]

Prints the latency percentiles per phase and how long each phase took.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from kubelite.testing.flood import scale_and_measure
from kubelite.testing.server_process import ServerProcess


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=5000)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--server-arg", action="append", default=[],
                    help="extra flag for kubelite server (repeat)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        server = ServerProcess(Path(d), extra_args=args.server_arg).start()
        try:
            result = scale_and_measure(server, args.pods, args.timeout)
        finally:
            server.stop()
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
