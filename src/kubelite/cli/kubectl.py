"""``kubelite kubectl ARGS...``: the real kubectl, pointed at this kubelite's kubeconfig."""

from __future__ import annotations

import argparse
import os
import shutil
import sys

from kubelite.cli.server import DEFAULT_KUBECONFIG


def register(subs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subs.add_parser("kubectl", help="run kubectl against this kubelite",
                        add_help=False, prefix_chars="\0")
    p.add_argument("args", nargs=argparse.REMAINDER)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        print("kubelite: kubectl not found on PATH", file=sys.stderr)
        return 127
    env = dict(os.environ)
    env.setdefault("KUBECONFIG", str(DEFAULT_KUBECONFIG))
    os.execvpe(kubectl, [kubectl, *args.args], env)
