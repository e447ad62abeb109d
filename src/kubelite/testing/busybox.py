"""A busybox root filesystem for runtime tests, built from Debian's busybox-static.

:func:`build_rootfs` unpacks the package (downloaded once into ``$KUBELITE_TEST_CACHE``,
default ``/tmp/kubelite-test-cache``) or copies the host's ``/bin/busybox``, and links
every applet into ``/bin``. It returns None when neither is available.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

CACHE = Path(os.environ.get("KUBELITE_TEST_CACHE", "/tmp/kubelite-test-cache"))


def _busybox_deb() -> Path | None:
    debs = CACHE / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    found = sorted(debs.glob("busybox-static_*.deb"))
    if not found:
        subprocess.run(
            ["apt-get", "-q", "-o", "APT::Sandbox::User=root", "download", "busybox-static"],
            cwd=debs, capture_output=True, timeout=120, check=False,
        )
        found = sorted(debs.glob("busybox-static_*.deb"))
    return found[-1] if found else None


def build_rootfs(root: Path) -> Path | None:
    """Make ``root`` a root filesystem with a static busybox, ``/etc/passwd`` (root,
    nobody) and empty ``/proc /sys /dev /etc /tmp /data``; None without busybox."""
    (root / "bin").mkdir(parents=True)
    deb = _busybox_deb()
    if deb is not None:
        unpack = root.parent / "deb"
        subprocess.run(["dpkg-deb", "-x", str(deb), str(unpack)], check=True)
        shutil.copy2(unpack / "bin" / "busybox", root / "bin" / "busybox")
    elif os.path.exists("/bin/busybox"):
        shutil.copy2("/bin/busybox", root / "bin" / "busybox")
    else:
        return None
    applets = subprocess.run(
        [str(root / "bin" / "busybox"), "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    for applet in applets:
        link = root / "bin" / applet
        if not link.exists():
            link.symlink_to("busybox")
    for d in ("proc", "sys", "dev", "etc", "tmp", "data"):
        (root / d).mkdir(exist_ok=True)
    (root / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n"
    )
    (root / "etc" / "group").write_text("root:x:0:\nnogroup:x:65534:\n")
    return root
