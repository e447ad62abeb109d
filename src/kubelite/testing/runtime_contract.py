"""Runtime harnesses for the contract suite (``tests/contract``).

A :class:`Harness` gives a contract case the runtime under test, an image, and two ways
to script a process that every runtime can play: :meth:`Harness.start` (a container that
writes lines to stdout and stderr, then exits with a code or keeps running) and
:meth:`Harness.exec_argv` (a command with a known output and exit code). ``OciRuntime``
runs them as ``sh -c`` scripts in busybox; ``FakeRuntime`` plays them through its test
controls (``write_log``, ``exit_container``, ``exec_handler``).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path

from kubelite.network import FakeNetwork
from kubelite.runtime.fake import FakeRuntime
from kubelite.runtime.protocol import (
    ContainerConfig,
    ContainerRuntime,
    ImageSpec,
    PodSandboxConfig,
)

IMAGE_REF = "docker.io/library/busybox:latest"
IMAGE_ID = "sha256:" + "b" * 64


class Harness:
    """One runtime under test and how to script its processes (see the module)."""

    kind = ""

    def __init__(self, runtime: ContainerRuntime, image: ImageSpec, subnet: str,
                 log_root: Path) -> None:
        self.runtime = runtime
        self.image = image
        self.subnet = subnet
        self.log_root = log_root

    def sandbox_config(self, name: str, **kw: object) -> PodSandboxConfig:
        return PodSandboxConfig(name=name, namespace="contract", uid=f"uid-{name}",
                                log_directory=str(self.log_root / name),
                                **kw)  # type: ignore[arg-type]

    def container_config(self, name: str, script: str, **kw: object) -> ContainerConfig:
        return ContainerConfig(name=name, image=self.image, command=("sh", "-c", script),
                               log_path=f"{name}/{kw.get('attempt', 0)}.log",
                               **kw)  # type: ignore[arg-type]

    async def start(self, sandbox_id: str, sc: PodSandboxConfig, name: str, *,
                    out: Sequence[str] = (), err: Sequence[str] = (),
                    exit_code: int | None = None, **kw: object) -> str:
        """Create and start a container that prints ``out`` then ``err`` lines and exits
        with ``exit_code`` (None: keeps running until stopped). A real runtime runs the
        script; a fake one is told what it would do (:class:`FakeHarness`)."""
        cfg = self.container_config(name, _script(out, err, exit_code), **kw)
        cid = await self.runtime.create_container(sandbox_id, cfg, sc)
        await self.runtime.start_container(cid)
        return cid

    def exec_argv(self, out: bytes, err: bytes, code: int) -> list[str]:
        """A command that writes ``out`` and ``err`` and exits with ``code``."""
        return ["sh", "-c", f"printf %s {shlex.quote(out.decode())}; "
                            f"printf %s {shlex.quote(err.decode())} >&2; exit {code}"]


def _script(out: Sequence[str], err: Sequence[str], exit_code: int | None) -> str:
    lines = [f"echo {shlex.quote(t)}" for t in out]
    lines += [f"echo {shlex.quote(t)} >&2" for t in err]
    lines.append(f"exit {exit_code}" if exit_code is not None else "exec sleep 1000")
    return "; ".join(lines)


class FakeHarness(Harness):
    kind = "fake"

    def __init__(self, log_root: Path) -> None:
        self.execs: dict[tuple[str, ...], tuple[int, bytes, bytes]] = {}
        subnet = "10.99.0.0/24"
        rt = FakeRuntime(network=FakeNetwork(subnet),
                         exec_handler=lambda _cid, argv: self.execs[tuple(argv)])
        image = ImageSpec(ref=IMAGE_REF, layers=("/fake/layer",), cmd=("sh",),
                          image_id=IMAGE_ID)
        super().__init__(rt, image, subnet, log_root)
        self.fake = rt

    async def start(self, sandbox_id: str, sc: PodSandboxConfig, name: str, *,
                    out: Sequence[str] = (), err: Sequence[str] = (),
                    exit_code: int | None = None, **kw: object) -> str:
        cid = await super().start(sandbox_id, sc, name, out=out, err=err,
                                  exit_code=exit_code, **kw)
        if out:
            self.fake.write_log(cid, "\n".join(out), "stdout")
        if err:
            self.fake.write_log(cid, "\n".join(err), "stderr")
        if exit_code is not None:
            self.fake.exit_container(cid, exit_code)
        return cid

    def exec_argv(self, out: bytes, err: bytes, code: int) -> list[str]:
        argv = super().exec_argv(out, err, code)
        self.execs[tuple(argv)] = (code, out, err)
        return argv


class OciHarness(Harness):
    """``OciRuntime``: the scripts run in busybox under runc."""

    kind = "oci"
