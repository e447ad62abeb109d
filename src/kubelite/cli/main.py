"""The ``kubelite`` command: one entry point, one sub-command module each.

Each sub-command module exposes ``register(subparsers)``, which adds its parser and sets
``func`` (taking the parsed arguments, returning an exit code) as the parser default.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Sub-command modules, in the order ``kubelite --help`` lists them.
COMMANDS: tuple[str, ...] = (
    "kubelite.cli.server",
    "kubelite.cli.agent",
    "kubelite.cli.killall",
    "kubelite.cli.kubectl",
    "kubelite.cli.images",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubelite", description="Kubernetes for pods: API server, scheduler and kubelet."
    )
    subs = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(subs)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    code: int = func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
