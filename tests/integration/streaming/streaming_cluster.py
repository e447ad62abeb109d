"""An in-process API server and kubelet server over the fake runtime, on a background loop.

The pod ``web`` (containers ``app`` and ``sidecar``) runs on node ``node1`` whose kubelet is
a real :class:`KubeletServer` (TLS, CA-signed, client-certificate auth) over a
:class:`FakeRuntime`. Fake exec programs: ``echo ARGS``, ``sh -c 'exit N'``, ``cat``,
``err TEXT`` (to stderr), ``sh`` (echoes input, ends on ^D or "exit"). Port-forward reaches a
local TCP echo server.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

from kubelite.api import scheme
from kubelite.apiserver.app import APIServer, ServingConfig, write_kubeconfig
from kubelite.apiserver.auth import TokenFile
from kubelite.apiserver.pki import ensure_pki, issue_serving_cert
from kubelite.kubelet.server import (
    ContainerTarget,
    FakePodLookup,
    KubeletServer,
    KubeletServerConfig,
)
from kubelite.runtime.protocol import ContainerConfig, ImageSpec, PodSandboxConfig
from kubelite.testing.fake_runtime import FakeProcess, FakeRuntime
from kubelite.testing.memory_store import MemoryStore

T = TypeVar("T")
NS = "default"
CONTAINERS = ("app", "sidecar", "job", "attached")
POD_UID = "0b1c6a52-7f53-4c1e-9d8b-5d1f3e0f1a01"


async def fake_exec(cid: str, argv: Sequence[str], proc: FakeProcess) -> int:
    if argv[0] == "echo":
        proc.write((" ".join(argv[1:]) + "\n").encode())
        return 0
    if argv[0] == "err":
        proc.write_err((" ".join(argv[1:]) + "\n").encode())
        return 0
    if argv[:2] == ["sh", "-c"] and (m := re.fullmatch(r"exit (\d+)", argv[2])):
        return int(m.group(1))
    if argv == ["cat"]:
        while chunk := await proc.stdin.read(65536):
            proc.write(chunk)
        return 0
    if argv == ["sh"]:
        proc.write(b"$ ")
        while chunk := await proc.stdin.read(65536):
            if b"\x04" in chunk or b"exit" in chunk:
                return 0
            proc.write(chunk.replace(b"\r", b"\r\n"))
        return 0
    proc.write_err(f"{argv[0]}: not found\n".encode())
    return 127


class StreamingCluster:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.kubeconfig = root / "kubeconfig"
        self.cache_dir = root / "cache"
        self.kubectl_dir = Path(os.path.realpath(shutil.which("kubectl") or "kubectl")).parent
        self.runtime = FakeRuntime(exec_process=fake_exec, port_forward_handler=self._dial)
        self.containers: dict[str, str] = {}

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> StreamingCluster:
        self.thread.start()
        self.run(self._start())
        return self

    def exit_container(self, name: str, code: int = 0) -> None:
        """End a fake container's process (on the loop: its waiters live there)."""
        async def end() -> None:
            self.runtime.exit_container(self.containers[name], code)

        self.run(end())

    def stop(self) -> None:
        self.run(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    async def _dial(self, sandbox_id: str, port: int) -> tuple[Any, Any]:
        if port != 80:
            raise ConnectionRefusedError(f"dial tcp 127.0.0.1:{port}: connect: connection refused")
        return await asyncio.open_connection("127.0.0.1", self.echo_port)

    async def _echo(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()

    async def _start(self) -> None:
        pki = ensure_pki(self.root / "tls")
        cert, key = issue_serving_cert(pki, "node1", ["127.0.0.1"])
        (self.root / "kubelet.crt").write_bytes(cert)
        (self.root / "kubelet.key").write_bytes(key)
        self.echo = await asyncio.start_server(self._echo, "127.0.0.1", 0)
        self.echo_port = self.echo.sockets[0].getsockname()[1]

        # runtime: a sandbox with two running containers and CRI logs
        sb = PodSandboxConfig(name="web", namespace=NS, uid=POD_UID,
                              log_directory=str(self.root / "pods" / f"{NS}_web_{POD_UID}"))
        sid = await self.runtime.run_pod_sandbox(sb)
        lookup = FakePodLookup(self.runtime)
        for name in CONTAINERS:
            cfg = ContainerConfig(name=name, image=ImageSpec("busybox", ()), command=("sleep",),
                                  log_path=f"{name}/0.log")
            cid = await self.runtime.create_container(sid, cfg, sb)
            await self.runtime.start_container(cid)
            status = await self.runtime.container_status(cid)
            lookup.containers[(NS, "web", name)] = ContainerTarget(POD_UID, sid, cid,
                                                                   status.log_path)
            self.containers[name] = cid
        self.kubelet = KubeletServer(lookup, KubeletServerConfig(
            "127.0.0.1", 0, self.root / "kubelet.crt", self.root / "kubelet.key", pki.ca_cert))
        await self.kubelet.start()

        self.store = MemoryStore()
        await self.store.start()
        self.api = APIServer(self.store, TokenFile(self.root / "tokens.csv"),
                             ServingConfig("127.0.0.1", 0, pki))
        await self.api.start()
        write_kubeconfig(self.kubeconfig, self.api.url(), pki)
        await self._objects()

    async def _objects(self) -> None:
        reg = self.api.registry
        nodes = scheme.lookup("", "v1", "nodes")
        pods = scheme.lookup("", "v1", "pods")
        assert nodes is not None and pods is not None
        await reg.create(nodes, None, {"apiVersion": "v1", "kind": "Node",
                                       "metadata": {"name": "node1"}})

        def node_status(n: dict[str, Any]) -> dict[str, Any]:
            n["status"] = {
                "addresses": [{"type": "InternalIP", "address": "127.0.0.1"},
                              {"type": "Hostname", "address": "node1"}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": self.kubelet.port}},
            }
            return n

        await reg.guaranteed_update(nodes, None, "node1", node_status, subresource="status")
        containers = [{"name": n, "image": "busybox"} for n in CONTAINERS]
        await reg.create(pods, NS, {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web", "annotations": {
                "kubectl.kubernetes.io/default-container": "app"}},
            "spec": {"nodeName": "node1", "containers": containers}})
        await reg.create(pods, NS, {
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "pending"},
            "spec": {"nodeName": "node1", "containers": [{"name": "app", "image": "x"}]}})

        def running(p: dict[str, Any]) -> dict[str, Any]:
            p["status"] = {"phase": "Running", "containerStatuses": [
                {"name": n, "ready": True, "restartCount": 0, "image": "busybox",
                 "imageID": "", "containerID": f"fake://{self.containers[n]}",
                 "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}
                for n in CONTAINERS]}
            return p

        def waiting(p: dict[str, Any]) -> dict[str, Any]:
            p["status"] = {"phase": "Pending", "containerStatuses": [
                {"name": "app", "ready": False, "restartCount": 0, "image": "x", "imageID": "",
                 "state": {"waiting": {"reason": "ContainerCreating"}}}]}
            return p

        await reg.guaranteed_update(pods, NS, "web", running, subresource="status")
        await reg.guaranteed_update(pods, NS, "pending", waiting, subresource="status")

    async def _stop(self) -> None:
        await self.api.stop()
        await self.kubelet.stop()
        await self.store.close()
        self.echo.close()

    # -- kubectl -------------------------------------------------------------------------

    def kubectl_cmd(self, *args: str, version: str | None = None) -> list[str]:
        binary = str(self.kubectl_dir / f"kubectl.{version}") if version else "kubectl"
        return [binary, "--kubeconfig", str(self.kubeconfig), "--cache-dir",
                str(self.cache_dir), *args]

    def kubectl(self, *args: str, version: str | None = None, input: str | None = None,
                env: dict[str, str] | None = None,
                timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.kubectl_cmd(*args, version=version), input=input,
                              capture_output=True, text=True, timeout=timeout, check=False,
                              env={**os.environ, **(env or {})})
