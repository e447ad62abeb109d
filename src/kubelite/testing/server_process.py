"""Run a real ``kubelite server`` in a subprocess, and the real kubectl against it.

For end-to-end tests and benchmarks: :class:`ServerProcess` starts the server on a free
loopback port with its own data dir and kubeconfig, waits until it prints that it is
ready, and stops it (SIGTERM, or SIGKILL for crash tests).
"""

from __future__ import annotations

import os
import re
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import kubelite

_URL = re.compile(r"API server listening on (\S+)")


class ServerProcess:
    """A ``kubelite server`` subprocess bound to 127.0.0.1."""

    def __init__(self, data_dir: Path, *, extra_args: Sequence[str] = (),
                 port: int = 0, disable_agent: bool = True) -> None:
        self.data_dir = data_dir
        self.kubeconfig = data_dir / "kubeconfig.yaml"
        self.cache_dir = data_dir / "kube-cache"
        self.extra_args = list(extra_args)
        self.port = port
        self.disable_agent = disable_agent
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.output: list[str] = []
        self._ready = threading.Event()

    def start(self, timeout: float = 30.0) -> ServerProcess:
        self._ready.clear()
        self.output = []
        args = [
            sys.executable, "-m", "kubelite.cli.main", "server",
            "--data-dir", str(self.data_dir), "--bind-address", "127.0.0.1",
            "--https-listen-port", str(self.port), "--write-kubeconfig", str(self.kubeconfig),
            *(["--disable-agent"] if self.disable_agent else []), *self.extra_args,
        ]
        # run the same kubelite sources as this process (a worktree's, not an installed copy)
        src = str(Path(kubelite.__file__).resolve().parents[1])
        path = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH", "")) if p)
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path},
        )
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(timeout):
            self.kill()
            raise RuntimeError("kubelite server did not become ready:\n" + self.log())
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            m = _URL.search(line)
            if m:
                self.url = m.group(1)
                self.port = int(self.url.rsplit(":", 1)[1])
            if "kubelite: ready" in line:
                self._ready.set()

    def log(self) -> str:
        return "".join(self.output)

    def stop(self, timeout: float = 15.0) -> int:
        if self.proc is None:
            return 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc = None
        return code

    def kill(self) -> None:
        """kill -9: the crash that must lose no acknowledged write."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def kubectl(self, *args: str, input: str | None = None, timeout: float = 60.0,
                binary: str = "kubectl") -> subprocess.CompletedProcess[str]:
        """Run the real kubectl with this server's kubeconfig and a private cache dir."""
        cmd = [binary, "--kubeconfig", str(self.kubeconfig), "--cache-dir",
               str(self.cache_dir), *args]
        return subprocess.run(cmd, input=input, capture_output=True, text=True,
                              timeout=timeout, check=False)

    def kubectl_popen(self, *args: str) -> subprocess.Popen[str]:
        """Start kubectl in the background (for ``--watch``); the caller ends it."""
        cmd = ["kubectl", "--kubeconfig", str(self.kubeconfig), "--cache-dir",
               str(self.cache_dir), *args]
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)


def wait_for(predicate: object, timeout: float = 10.0, interval: float = 0.05) -> bool:
    """Poll ``predicate()`` until it is truthy or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return True
        time.sleep(interval)
    return False


def client_ssl_context(kubeconfig: Path) -> ssl.SSLContext:
    """An SSL context with the CA and admin client certificate of a kubeconfig."""
    import base64
    import tempfile

    import yaml

    cfg = yaml.safe_load(kubeconfig.read_text())
    cluster = cfg["clusters"][0]["cluster"]
    user = cfg["users"][0]["user"]
    ctx = ssl.create_default_context(
        cadata=base64.b64decode(cluster["certificate-authority-data"]).decode()
    )
    with tempfile.TemporaryDirectory() as d:
        cert = Path(d) / "c.crt"
        key = Path(d) / "c.key"
        cert.write_bytes(base64.b64decode(user["client-certificate-data"]))
        key.write_bytes(base64.b64decode(user["client-key-data"]))
        ctx.load_cert_chain(cert, key)
    return ctx
