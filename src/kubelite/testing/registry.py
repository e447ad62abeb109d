"""A real local registry full of kubelite's test images, for tests and benchmarks.

:class:`TestRegistry` builds the test images with ``scripts/build-test-images.sh`` (cached:
a build is reused while the script is unchanged), starts Debian's ``docker-registry`` on
127.0.0.1 on a free port with its storage in a temporary folder, pushes the images under
their upstream names (``library/busybox``, ``library/nginx``, ``library/ubuntu``,
``google-samples/hello-app``) and writes a ``registries.yaml`` that mirrors ``docker.io``
``gcr.io`` and ``registry.k8s.io`` to it. Needs ``docker-registry``, ``skopeo``,
``umoci`` and root (chroot).
"""

from __future__ import annotations

import concurrent.futures
import fcntl
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType

CACHE_ENV = "KUBELITE_TEST_IMAGES_CACHE"
DEFAULT_CACHE = "/var/cache/kubelite-test-images"
SCRIPT_ENV = "KUBELITE_BUILD_TEST_IMAGES"

# upstream reference -> (tag in the OCI layout, repository:tag in the registry)
TEST_IMAGES: dict[str, tuple[str, str]] = {
    "docker.io/library/busybox:latest": ("busybox-latest", "library/busybox:latest"),
    "docker.io/library/nginx:latest": ("nginx-latest", "library/nginx:latest"),
    "docker.io/library/ubuntu:latest": ("ubuntu-latest", "library/ubuntu:latest"),
    "gcr.io/google-samples/hello-app:2.0": ("hello-app-2.0", "google-samples/hello-app:2.0"),
    "registry.k8s.io/etcd:3.4.23": ("etcd-3.4.23", "etcd:3.4.23"),
}


class TestRegistryError(RuntimeError):
    """The test registry or the test images could not be set up."""


def find_script() -> Path:
    """``scripts/build-test-images.sh`` of this source tree (or ``$KUBELITE_BUILD_TEST_IMAGES``)."""
    env = os.environ.get(SCRIPT_ENV)
    if env:
        return Path(env)
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "scripts" / "build-test-images.sh"
        if candidate.is_file():
            return candidate
    raise TestRegistryError("scripts/build-test-images.sh not found; set " + SCRIPT_ENV)


def build_test_images(cache: Path | None = None) -> Path:
    """Build the test images once per script version; return the output folder
    (``oci/`` layout and ``archives/``). Concurrent callers wait for one build."""
    cache = cache or Path(os.environ.get(CACHE_ENV, DEFAULT_CACHE))
    script = find_script()
    version = hashlib.sha256(script.read_bytes()).hexdigest()[:16]
    out = cache / f"build-{version}"
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / "build.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (out / "done").exists():
            return out
        shutil.rmtree(out, ignore_errors=True)
        env = dict(os.environ, KUBELITE_TEST_IMAGES_CACHE=str(cache / "debs"))
        env.pop("IMAGES_REGISTRY", None)
        proc = subprocess.run(["bash", str(script), str(out)], env=env,
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise TestRegistryError(f"{script} failed ({proc.returncode}):\n"
                                    f"{proc.stderr[-3000:]}")
        (out / "done").write_text(version + "\n")
        return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class TestRegistry:
    """Start with :meth:`start` (or ``with``), stop with :meth:`stop`.

    After ``start``: ``host`` (``127.0.0.1:PORT``), ``url``, ``registries_yaml`` (a file
    mirroring docker.io and gcr.io here), ``oci_layout``, ``archives`` (one oci-archive per
    image) and ``digests`` (upstream reference -> manifest digest as served).
    """

    __test__ = False  # not a pytest test class

    def __init__(self, workdir: Path | None = None) -> None:
        self._own_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="kubelite-registry-"))
        self.port = 0
        self.host = ""
        self.url = ""
        self.registries_yaml = self.workdir / "registries.yaml"
        self.build = Path()
        self.digests: dict[str, str] = {}
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def oci_layout(self) -> Path:
        return self.build / "oci"

    @property
    def archives(self) -> Path:
        return self.build / "archives"

    def start(self) -> TestRegistry:
        for tool in ("docker-registry", "skopeo", "umoci"):
            if shutil.which(tool) is None:
                raise TestRegistryError(
                    f"{tool} is not installed (see scripts/debian-packages.txt)")
        self.build = build_test_images()
        self.start_registry()
        self.push_all()
        self.registries_yaml.write_text(
            "mirrors:\n"
            f'  docker.io:\n    endpoint: ["{self.url}"]\n'
            f'  gcr.io:\n    endpoint: ["{self.url}"]\n'
            f'  registry.k8s.io:\n    endpoint: ["{self.url}"]\n')
        return self

    def start_registry(self) -> None:
        storage = self.workdir / "storage"
        storage.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}"
        config = self.workdir / "registry.yml"
        config.write_text(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n"
            f"    enabled: true\nhttp:\n  addr: {self.host}\n")
        log = open(self.workdir / "registry.log", "wb")
        self._proc = subprocess.Popen(["docker-registry", "serve", str(config)],
                                      stdout=log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise TestRegistryError("docker-registry exited: "
                                        + (self.workdir / "registry.log").read_text()[-2000:])
            try:
                with urllib.request.urlopen(f"{self.url}/v2/", timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise TestRegistryError(f"docker-registry did not answer on {self.host}")

    def push(self, layout_tag: str, target: str, fmt: str = "v2s2") -> str:
        """Copy one image of the layout to ``target`` (``repo:tag``); return its digest."""
        digest_file = self.workdir / f"digest-{layout_tag}-{target.replace('/', '_')}"
        proc = subprocess.run(
            ["skopeo", "copy", "-q", "--dest-tls-verify=false", "--format", fmt,
             "--digestfile", str(digest_file), f"oci:{self.oci_layout}:{layout_tag}",
             f"docker://{self.host}/{target}"], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise TestRegistryError(f"skopeo push of {target} failed: {proc.stderr}")
        return digest_file.read_text().strip()

    def push_all(self) -> None:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            futures = {ref: pool.submit(self.push, tag, target)
                       for ref, (tag, target) in TEST_IMAGES.items()}
            self.digests = {ref: f.result() for ref, f in futures.items()}

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> TestRegistry:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
