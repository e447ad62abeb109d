"""The contract suite's ``harness`` fixture: every case runs against ``FakeRuntime`` and,
as root with runc and conmon, against ``OciRuntime`` (runc, conmon, overlayfs, CNI).

The harnesses (``kubelite.testing.runtime_contract``) script the processes. The OCI
harness shares one busybox root filesystem per session and one pod network (own bridge,
subnet and netns prefix) per module; each case gets its own runtime root, checked empty
of mounts, network namespaces and cgroups after it.
"""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from kubelite.network import BridgeNetworkConfig, CniNetwork
from kubelite.runtime.oci import OciRuntime, killall
from kubelite.runtime.oci.linux import mount_points_under
from kubelite.runtime.protocol import (
    ImageSpec,
)
from kubelite.testing.isolation import free_cidr, interface_name
from kubelite.testing.runtime_contract import (
    IMAGE_ID,
    IMAGE_REF,
    FakeHarness,
    Harness,
    OciHarness,
)


def _oci_missing() -> str:
    if os.geteuid() != 0:
        return "needs root"
    for tool in ("runc", "conmon"):
        if shutil.which(tool) is None:
            return f"needs {tool}"
    return ""


class OciNetwork:
    """The module's pod network: its own bridge, a free subnet and its own netns prefix."""

    def __init__(self, state_dir: str, key: str) -> None:
        self.subnet = free_cidr(24)
        self.bridge = interface_name("klct", key)
        self.prefix = f"klct-{os.getpid()}-"
        self.cni = CniNetwork(state_dir, BridgeNetworkConfig(
            subnet=self.subnet, bridge=self.bridge, netns_prefix=self.prefix))


@pytest.fixture(scope="module")
def oci_network(request: pytest.FixtureRequest,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[OciNetwork]:
    missing = _oci_missing()
    if missing:
        pytest.skip(missing)
    net = OciNetwork(str(tmp_path_factory.mktemp("contract-cni")),
                     f"{os.getpid()}-{request.node.nodeid}")
    yield net
    asyncio.run(net.cni.teardown_all())
    assert not os.path.exists(f"/sys/class/net/{net.bridge}")


@pytest.fixture(params=["fake", pytest.param("oci", marks=pytest.mark.root)])
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    """The runtime under test (``fake`` always; ``oci`` as root with runc and conmon)."""
    if request.param == "fake":
        yield FakeHarness(tmp_path / "logs")
        return
    missing = _oci_missing()
    if missing:
        pytest.skip(missing)
    net: OciNetwork = request.getfixturevalue("oci_network")
    rootfs: Path = request.getfixturevalue("busybox_rootfs")
    cgroup_root = f"kubelite-contract-{os.getpid()}"
    rt = OciRuntime(str(tmp_path / "rt"), net.cni, cgroup_root=cgroup_root)
    image = ImageSpec(ref=IMAGE_REF, layers=(str(rootfs),), cmd=("sh",), image_id=IMAGE_ID)
    yield OciHarness(rt, image, net.subnet, tmp_path / "logs")
    await killall(rt.root, net.cni)
    assert mount_points_under(rt.root) == []
    assert [n for n in os.listdir("/run/netns") if n.startswith(net.prefix)] == []
    assert glob.glob(f"/sys/fs/cgroup/*/{cgroup_root}") == []
