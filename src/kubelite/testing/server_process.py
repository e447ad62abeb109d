"""Run a real ``kubelite server`` in a subprocess, and the real kubectl against it.

For end-to-end tests and benchmarks: :class:`ServerProcess` starts the server on a free
loopback port with its own data dir and kubeconfig, waits until it prints that it is
ready, and stops it (SIGTERM, or SIGKILL for crash tests).

A server with its kubelet (``disable_agent=False``) lives beside the machine's own
``kubelite server`` and other test runs: unless ``extra_args`` say otherwise it gets its
own kubelet config (static pods from ``<data dir>/manifests``), a free kubelet port, a free
pod range and service range (:func:`kubelite.testing.isolation.free_cidr`) and its own
bridge and nftables table; its netns prefix, cgroups and CNI state follow from its data
dir. :meth:`close` stops it, runs ``kubelite killall`` on the data dir and checks that no
container process, network namespace, bridge, mount or nftables table of it is left
(:class:`LeftBehind` if one is).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import yaml

import kubelite
from kubelite.network.cni import BridgeNetworkConfig
from kubelite.network.netns import list_names
from kubelite.runtime.oci.linux import mount_points_under
from kubelite.testing.isolation import free_cidr, interface_name

_URL = re.compile(r"API server listening on (\S+)")


class LeftBehind(AssertionError):
    """A stopped test node left processes, namespaces, interfaces or mounts behind."""


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
        self.cluster_cidr = ""
        self.bridge = ""
        if not disable_agent:
            self.extra_args += self._node_defaults()

    def _node_defaults(self) -> list[str]:
        """The isolation flags (see the module) that ``extra_args`` does not set."""
        given = {a.split("=", 1)[0] for a in self.extra_args if a.startswith("--")}
        extra: list[str] = []
        if "--kubelet-config" not in given:
            manifests = self.data_dir / "manifests"
            manifests.mkdir(parents=True, exist_ok=True)
            config = self.data_dir / "kubelet-config.yaml"
            config.write_text(yaml.safe_dump({
                "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
                "staticPodPath": str(manifests)}))
            extra += ["--kubelet-config", str(config)]
        if "--kubelet-port" not in given:
            extra += ["--kubelet-port", "0"]
        if "--cluster-cidr" not in given:
            extra += ["--cluster-cidr", free_cidr(16)]
        if "--service-cidr" not in given:
            extra += ["--service-cidr", free_cidr(16)]
        if "--bridge-name" not in given:
            extra += ["--bridge-name", interface_name("kle2e", str(self.data_dir.resolve()))]
        if "--proxy-table" not in given:  # its own nftables table, never the machine's
            extra += ["--proxy-table",
                      "kubelite-" + interface_name("e2e", str(self.data_dir.resolve()))]
        args = [*self.extra_args, *extra]
        self.cluster_cidr = _flag(args, "--cluster-cidr")
        self.bridge = _flag(args, "--bridge-name")
        return extra

    def start(self, timeout: float = 30.0) -> ServerProcess:
        self._ready.clear()
        self.output = []
        args = [
            sys.executable, "-m", "kubelite.cli.main", "server",
            "--data-dir", str(self.data_dir), "--bind-address", "127.0.0.1",
            "--https-listen-port", str(self.port), "--write-kubeconfig", str(self.kubeconfig),
            *(["--disable-agent"] if self.disable_agent else []), *self.extra_args,
        ]
        path = _source_path()
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path},
        )
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(timeout):
            self.kill()
            if not self.disable_agent:
                self.cleanup()
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
        """SIGTERM (SIGKILL after ``timeout``); containers keep running (a restart adopts
        them). Fixtures end a node with :meth:`close`."""
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

    def close(self) -> int:
        """:meth:`stop`, then, with a kubelet, :meth:`cleanup`: for fixture teardown."""
        code = self.stop()
        if not self.disable_agent:
            self.cleanup()
        return code

    def cleanup(self) -> None:
        """``kubelite killall`` on the data dir, then check that nothing of it is left."""
        r = subprocess.run(
            [sys.executable, "-m", "kubelite.cli.main", "killall", "--data-dir",
             str(self.data_dir)], capture_output=True, text=True, check=False,
            env={**os.environ, "PYTHONPATH": _source_path()}, timeout=120)
        if r.returncode != 0:
            raise LeftBehind(f"kubelite killall failed: {r.stderr}")
        left = leftovers(self.data_dir, self.bridge)
        if left:
            raise LeftBehind(f"{self.data_dir} left behind: {'; '.join(left)}")

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


def _flag(args: Sequence[str], name: str) -> str:
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return ""


def _source_path() -> str:
    """PYTHONPATH that runs the same kubelite sources as this process (a worktree's, not
    an installed copy)."""
    src = str(Path(kubelite.__file__).resolve().parents[1])
    return os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH", "")) if p)


def leftovers(data_dir: Path, bridge: str = "") -> list[str]:
    """What of a stopped node under ``data_dir`` is still there: conmon or container
    processes, network namespaces (by its recorded netns prefix), its bridge, mounts."""
    root = str(data_dir.resolve())
    found: list[str] = []
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if root + "/agent/" in cmdline and cmdline.split(" ", 1)[0].endswith("conmon"):
            found.append(f"conmon pid {pid}")
    config = BridgeNetworkConfig.recorded(str(data_dir / "agent" / "cni"))
    if config is not None:
        found += [f"netns {n}" for n in list_names(config.netns_prefix)]
        bridge = bridge or config.bridge
    if bridge and os.path.exists(f"/sys/class/net/{bridge}"):
        found.append(f"bridge {bridge}")
    found += [f"mount {m}" for m in mount_points_under(root)]
    table = _recorded_table(data_dir)
    if table and shutil.which("nft") and subprocess.run(
            ["nft", "list", "table", "ip", table], capture_output=True, check=False,
            timeout=10).returncode == 0:
        found.append(f"nftables table {table}")
    return found


def _recorded_table(data_dir: Path) -> str:
    try:
        return (data_dir / "agent" / "proxy-table").read_text().strip()
    except OSError:
        return ""


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
