"""A real ``kubelite server`` against slow and abusive clients, and its files on disk."""

from __future__ import annotations

import asyncio
import os
import ssl
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubelite.testing.server_process import ServerProcess, wait_for

pytestmark = pytest.mark.e2e

HEADER_TIMEOUT = 3.0


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("guarded"), extra_args=[
        "--request-header-timeout", str(HEADER_TIMEOUT), "--tls-handshake-timeout", "3"])
    proc.start()
    yield proc
    proc.stop()


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_500_connections_trickling_headers_are_closed_while_kubectl_works(
        guarded: ServerProcess) -> None:
    assert guarded.proc is not None
    pid = guarded.proc.pid
    before = open_fds(pid)
    log_before = len(guarded.log())
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    closed_after: list[float] = []

    async def slow_client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", guarded.port, ssl=ctx)
        start = time.monotonic()
        header = b"GET /api HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
        try:
            for i in range(len(header)):
                writer.write(header[i:i + 1])
                await writer.drain()
                await asyncio.sleep(0.2)
                if reader.at_eof():
                    break
            else:
                return
            closed_after.append(time.monotonic() - start)
        except (ConnectionError, OSError, ssl.SSLError):
            closed_after.append(time.monotonic() - start)
        finally:
            writer.close()

    async def main() -> list[float]:
        clients = [asyncio.create_task(slow_client()) for _ in range(500)]
        kubectl_times: list[float] = []
        await asyncio.sleep(0.5)
        for _ in range(4):  # kubectl keeps answering meanwhile
            t = time.monotonic()
            out = await asyncio.to_thread(guarded.kubectl, "get", "ns", timeout=20)
            assert out.returncode == 0, out.stderr
            kubectl_times.append(time.monotonic() - t)
        await asyncio.wait_for(asyncio.gather(*clients, return_exceptions=True), 30)
        return kubectl_times

    kubectl_times = asyncio.run(main())
    assert len(closed_after) == 500
    # closed by the header deadline (counted from the handshake), not by the client
    assert max(closed_after) < HEADER_TIMEOUT + 3, max(closed_after)
    assert max(kubectl_times) < 5, kubectl_times
    assert wait_for(lambda: open_fds(pid) <= before + 10, timeout=10), (before, open_fds(pid))
    assert len(guarded.log()) - log_before < 20_000  # no flood of log lines
    assert guarded.kubectl("get", "ns").returncode == 0


def test_responses_do_not_name_the_server_software(guarded: ServerProcess) -> None:
    out = guarded.kubectl("get", "--raw", "/version", "-v=8")
    assert out.returncode == 0
    assert "Content-Type: application/json" in out.stderr  # kubectl shows the headers
    assert "aiohttp" not in out.stderr and "Python/" not in out.stderr
    assert "Server:" not in out.stderr


def test_secret_files_are_private_from_the_moment_they_exist(tmp_path: Path) -> None:
    """A thread watches the data dir while the server starts for the first time: no file
    holding keys, tokens or the database is ever readable by others."""
    data = tmp_path / "fresh"
    server_dir = data / "server"
    seen: dict[Path, int] = {}
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for root, dirs, files in os.walk(server_dir):
                for name in [*dirs, *files]:
                    p = Path(root) / name
                    try:
                        seen[p] = seen.get(p, 0) | stat.S_IMODE(os.lstat(p).st_mode)
                    except FileNotFoundError:
                        pass
            for p in (data / "kubeconfig.yaml",):
                try:
                    seen[p] = seen.get(p, 0) | stat.S_IMODE(os.lstat(p).st_mode)
                except FileNotFoundError:
                    pass
    watcher = threading.Thread(target=watch)
    watcher.start()
    proc = ServerProcess(data)
    try:
        proc.start()
    finally:
        done.set()
        watcher.join()
    try:
        for p in (server_dir / "db" / "state.db", server_dir / "db" / "state.db-wal",
                  server_dir / "node-token", server_dir / "tokens.csv",
                  server_dir / "tls" / "ca.key", data / "kubeconfig.yaml"):
            assert p.exists(), p
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
        for d in (server_dir, server_dir / "db", server_dir / "tls"):
            assert stat.S_IMODE(d.stat().st_mode) == 0o700, d
        private = [p for p in seen if p.name not in ("proto-descriptors.bin",)
                   and not p.name.endswith(".crt")]
        wide = {str(p): oct(seen[p]) for p in private if seen[p] & 0o077}
        assert not wide, wide
    finally:
        proc.stop()


def test_node_token_gets_403_for_the_api_servers_names(guarded: ServerProcess) -> None:
    import json
    import urllib.error
    import urllib.request

    from kubelite.apiserver import join_token

    token = join_token.parse(
        (guarded.data_dir / "server" / "node-token").read_text()).secret
    ctx = ssl.create_default_context(
        cafile=str(guarded.data_dir / "server" / "tls" / "ca.crt"))

    def ask(node: str, hosts: list[str]) -> int:
        req = urllib.request.Request(
            f"{guarded.url}/v1-kubelite/serving-kubelet", method="POST",
            data=json.dumps({"nodeName": node, "hosts": hosts}).encode(),
            headers={"Authorization": f"Bearer {token}",
                     "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
                return int(r.status)
        except urllib.error.HTTPError as e:
            return int(e.code)
    for hosts in (["kubernetes.default.svc"], ["127.0.0.1"], ["localhost"], ["other"]):
        assert ask("agent9", hosts) == 403, hosts
    assert ask("agent9", ["192.0.2.77"]) == 200
