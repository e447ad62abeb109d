"""The OCI runtime with real runc, conmon, overlayfs and CNI (root only).

A busybox root filesystem is built once per session from Debian's busybox-static.
Each test gets its own runtime root; all tests share one test bridge and subnet, and
the module checks that nothing (mounts, netns, cgroups, interfaces) is left behind.
"""

from __future__ import annotations

import asyncio
import glob
import ipaddress
import os
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from kubelite.network import BridgeNetworkConfig, CniNetwork
from kubelite.runtime.oci import OciRuntime, killall
from kubelite.runtime.oci.linux import mount_points_under
from kubelite.runtime.protocol import (
    ContainerConfig,
    ContainerNotFound,
    ContainerRuntime,
    ContainerState,
    ContainerStatus,
    ExecTimeout,
    ImageSpec,
    Mount,
    PodSandboxConfig,
    Resources,
    SandboxState,
)
from kubelite.testing.isolation import free_cidr, interface_name
from kubelite.testing.waiting import eventually

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(
        not (shutil.which("runc") and shutil.which("conmon")), reason="needs runc and conmon"
    ),
]

# apart from a running kubelite server and from other test runs on this machine
BRIDGE = interface_name("kltest", str(os.getpid()))
SUBNET = free_cidr(24)
NETNS_PREFIX = f"kltest-{os.getpid()}-"
CGROUP_ROOT = f"kubelite-test-{os.getpid()}"


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CniNetwork]:
    net = CniNetwork(
        str(tmp_path_factory.mktemp("cni")),
        BridgeNetworkConfig(subnet=SUBNET, bridge=BRIDGE, netns_prefix=NETNS_PREFIX),
    )
    yield net
    asyncio.run(net.teardown_all())
    assert not os.path.exists(f"/sys/class/net/{BRIDGE}")


@pytest.fixture
async def runtime(tmp_path: Path, network: CniNetwork) -> AsyncIterator[OciRuntime]:
    rt = OciRuntime(str(tmp_path / "rt"), network, cgroup_root=CGROUP_ROOT)
    yield rt
    await killall(rt.root, network)
    assert mount_points_under(rt.root) == []
    assert [n for n in os.listdir("/run/netns") if n.startswith(NETNS_PREFIX)] == []
    assert glob.glob(f"/sys/fs/cgroup/*/{CGROUP_ROOT}") == []


def exists(path: str | Path) -> bool:
    return os.path.exists(path)


def read(path: str | Path) -> str:
    return Path(path).read_text()


def image(rootfs: Path) -> ImageSpec:
    return ImageSpec(ref="docker.io/library/busybox:latest", layers=(str(rootfs),), cmd=("sh",))


def pod(tmp_path: Path, name: str) -> PodSandboxConfig:
    return PodSandboxConfig(
        name=name, namespace="default", uid=f"uid-{name}",
        log_directory=str(tmp_path / "logs" / name),
    )


async def start(
    rt: ContainerRuntime, sid: str, sc: PodSandboxConfig, img: ImageSpec, name: str,
    script: str, **kw: object,
) -> str:
    cfg = ContainerConfig(
        name=name, image=img, command=("sh", "-c", script), log_path=f"{name}/0.log",
        **kw,  # type: ignore[arg-type]
    )
    cid = await rt.create_container(sid, cfg, sc)
    await rt.start_container(cid)
    return cid


async def wait_exited(
    rt: ContainerRuntime, cid: str, timeout: float = 10  # noqa: ASYNC109
) -> ContainerStatus:
    async def exited() -> ContainerStatus | None:
        st = await rt.container_status(cid)
        return st if st.state == ContainerState.EXITED else None

    found: ContainerStatus = await eventually(exited, timeout)
    return found


def log_lines(st: ContainerStatus) -> list[tuple[str, str, str]]:
    """(stream, tag, text) of each CRI log line."""
    out = []
    for line in Path(st.log_path).read_text().splitlines():
        _stamp, stream, tag, text = line.split(" ", 3)
        out.append((stream, tag, text))
    return out


async def test_echo_logs_and_exit_zero(runtime: OciRuntime, busybox_rootfs: Path,
                                       tmp_path: Path) -> None:
    sc = pod(tmp_path, "echo")
    sid = await runtime.run_pod_sandbox(sc)
    cid = await start(runtime, sid, sc, image(busybox_rootfs), "c", "echo hi; echo oops >&2")
    st = await wait_exited(runtime, cid)
    assert (st.state, st.exit_code, st.reason) == (ContainerState.EXITED, 0, "Completed")
    assert st.log_path == str(tmp_path / "logs" / "echo" / "c" / "0.log")
    assert ("stdout", "F", "hi") in log_lines(st)
    assert ("stderr", "F", "oops") in log_lines(st)
    assert st.started_at is not None and st.finished_at is not None
    assert st.created_at <= st.started_at <= st.finished_at
    line = read(st.log_path).splitlines()[0]
    assert line.split(" ")[0][:4].isdigit() and "T" in line.split(" ")[0]
    await runtime.remove_pod_sandbox(sid)
    with pytest.raises(ContainerNotFound):
        await runtime.container_status(cid)
    assert await runtime.list_pod_sandboxes() == []
    assert mount_points_under(runtime.root) == []


async def test_exit_code_three_is_error(runtime: OciRuntime, busybox_rootfs: Path,
                                        tmp_path: Path) -> None:
    sc = pod(tmp_path, "three")
    sid = await runtime.run_pod_sandbox(sc)
    cid = await start(runtime, sid, sc, image(busybox_rootfs), "c", "exit 3")
    st = await wait_exited(runtime, cid)
    assert (st.exit_code, st.reason) == (3, "Error")


async def test_pod_shares_network_and_volume_reachable_from_host(
    runtime: OciRuntime, busybox_rootfs: Path, tmp_path: Path
) -> None:
    sc = pod(tmp_path, "web")
    sid = await runtime.run_pod_sandbox(sc)
    status = await runtime.pod_sandbox_status(sid)
    assert status.state == SandboxState.READY
    assert ipaddress.ip_address(status.ip) in ipaddress.ip_network(SUBNET)
    shared = tmp_path / "empty-dir"
    vol = (Mount(str(shared), "/data"),)
    img = image(busybox_rootfs)
    server = await start(runtime, sid, sc, img, "server",
                         "echo shared > /data/x; exec httpd -f -p 8080 -h /data", mounts=vol)
    client = await start(
        runtime, sid, sc, img, "client",
        "for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O - http://127.0.0.1:8080/x && break;"
        " sleep 0.2; done; cat /data/x; hostname",
        mounts=vol,
    )
    st = await wait_exited(runtime, client)
    texts = [t for s, _, t in log_lines(st) if s == "stdout"]
    assert texts == ["shared", "shared", "web"]  # via localhost, via the volume, UTS
    assert read(shared / "x") == "shared\n"
    # from the host, through the bridge, to the pod IP
    reader, writer = await asyncio.open_connection(status.ip, 8080)
    writer.write(b"GET /x HTTP/1.0\r\n\r\n")
    reply = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert reply.startswith(b"HTTP/1.") and reply.endswith(b"shared\n")
    # port-forward into the pod's namespace
    reader2, writer2 = await runtime.port_forward(sid, 8080)
    writer2.write(b"GET /x HTTP/1.0\r\n\r\n")
    await writer2.drain()
    reply2 = await asyncio.wait_for(reader2.read(-1), 5)
    writer2.close()
    assert reply2.endswith(b"shared\n")
    assert (await runtime.container_status(server)).state == ContainerState.RUNNING
    await runtime.stop_pod_sandbox(sid)
    assert (await runtime.pod_sandbox_status(sid)).state == SandboxState.NOTREADY
    assert (await runtime.container_status(server)).state == ContainerState.EXITED
    assert not exists(status.netns_path)
    await runtime.remove_pod_sandbox(sid)


async def test_memory_limit_oomkilled(runtime: OciRuntime, busybox_rootfs: Path,
                                      tmp_path: Path) -> None:
    sc = pod(tmp_path, "oom")
    sid = await runtime.run_pod_sandbox(sc)
    cid = await start(
        runtime, sid, sc, image(busybox_rootfs), "hog",
        "dd if=/dev/zero of=/dev/null bs=64M count=1",
        resources=Resources(memory_limit_bytes=16 * 1024 * 1024),
    )
    st = await wait_exited(runtime, cid)
    assert (st.exit_code, st.reason) == (137, "OOMKilled")


async def test_stop_term_then_kill(runtime: OciRuntime, busybox_rootfs: Path,
                                   tmp_path: Path) -> None:
    sc = pod(tmp_path, "stop")
    sid = await runtime.run_pod_sandbox(sc)
    img = image(busybox_rootfs)
    polite = await start(runtime, sid, sc, img, "polite",
                         "trap 'echo got TERM; exit 7' TERM; echo ready; "
                         "while true; do sleep 0.05; done")
    stubborn = await start(runtime, sid, sc, img, "stubborn", "exec sleep 1000")
    async def trapped() -> str:  # the trap must be installed before we signal
        return read((await runtime.container_status(polite)).log_path)

    await eventually(trapped)
    t0 = time.monotonic()
    await runtime.stop_container(polite, 10)
    assert time.monotonic() - t0 < 5
    st = await runtime.container_status(polite)
    assert (st.state, st.exit_code) == (ContainerState.EXITED, 7)
    assert ("stdout", "F", "got TERM") in log_lines(st)
    t0 = time.monotonic()
    await runtime.stop_container(stubborn, 1)
    assert time.monotonic() - t0 >= 1
    st = await runtime.container_status(stubborn)
    assert (st.exit_code, st.reason) == (137, "Error")
    await runtime.stop_container(stubborn, 1)  # idempotent


async def test_exec_sync_and_streams(runtime: OciRuntime, busybox_rootfs: Path,
                                     tmp_path: Path) -> None:
    sc = pod(tmp_path, "exec")
    sid = await runtime.run_pod_sandbox(sc)
    cid = await start(runtime, sid, sc, image(busybox_rootfs), "c", "exec sleep 1000",
                      env=(("GREETING", "hello"),))
    code, out, err = await runtime.exec_sync(
        cid, ["sh", "-c", "echo $GREETING; echo bad >&2; exit 5"], timeout=10)
    assert (code, out, err) == (5, b"hello\n", b"bad\n")
    with pytest.raises(ExecTimeout):
        await runtime.exec_sync(cid, ["sleep", "10"], timeout=0.3)
    session = await runtime.exec(cid, ["cat"], stdin=True)
    assert session.stdin is not None and session.stdout is not None
    session.stdin.write(b"round trip\n")
    await session.stdin.drain()
    session.stdin.close()
    assert await asyncio.wait_for(session.stdout.read(-1), 5) == b"round trip\n"
    assert await session.wait() == 0
    tty = await runtime.exec(cid, ["sh", "-c", "tty; stty size"], tty=True)
    await tty.resize(100, 30)
    assert tty.stdout is not None and tty.stderr is None
    output = b""
    while chunk := await asyncio.wait_for(tty.stdout.read(1024), 5):
        output += chunk
    assert await tty.wait() == 0
    assert b"/dev/pts/" in output
    await tty.close()


async def test_new_instance_adopts_running_containers(
    runtime: OciRuntime, network: CniNetwork, busybox_rootfs: Path, tmp_path: Path
) -> None:
    sc = pod(tmp_path, "adopt")
    sid = await runtime.run_pod_sandbox(sc)
    img = image(busybox_rootfs)
    running = await start(runtime, sid, sc, img, "long", "exec sleep 1000")
    done = await start(runtime, sid, sc, img, "short", "exit 4")
    await wait_exited(runtime, done)
    before = await runtime.list_containers()
    await runtime.close()
    again = OciRuntime(runtime.root, network)
    after = await again.list_containers()
    assert [(c.id, c.state, c.pid, c.exit_code) for c in after] == [
        (c.id, c.state, c.pid, c.exit_code) for c in before
    ]
    assert {c.id: c.state for c in after} == {
        running: ContainerState.RUNNING, done: ContainerState.EXITED,
    }
    assert [s.id for s in await again.list_pod_sandboxes(state=SandboxState.READY)] == [sid]
    await again.stop_container(running, 0)
    assert (await runtime.container_status(running)).state == ContainerState.EXITED


async def test_killall_removes_everything(network: CniNetwork, busybox_rootfs: Path,
                                          tmp_path: Path) -> None:
    rt = OciRuntime(str(tmp_path / "rt"), network, cgroup_root=CGROUP_ROOT)
    sc = pod(tmp_path, "doomed")
    sid = await rt.run_pod_sandbox(sc)
    netns = (await rt.pod_sandbox_status(sid)).netns_path
    cid = await start(rt, sid, sc, image(busybox_rootfs), "c", "exec sleep 1000")
    pid = (await rt.container_status(cid)).pid
    assert pid is not None and exists(f"/proc/{pid}")
    assert await killall(rt.root, network) == 1
    async def reaped() -> bool:
        return not exists(f"/proc/{pid}") or "Z" in read(f"/proc/{pid}/stat")

    await eventually(reaped, 1.0)
    assert not exists(f"/proc/{pid}") or "Z" in read(f"/proc/{pid}/stat")
    assert not exists(netns)
    assert mount_points_under(rt.root) == []
    assert glob.glob(f"/sys/fs/cgroup/*/{CGROUP_ROOT}") == []
    assert not exists(f"/sys/class/net/{BRIDGE}")
    assert await OciRuntime(rt.root, network).list_containers() == []


async def test_attach_stdin_and_reopen_log(runtime: OciRuntime, busybox_rootfs: Path,
                                           tmp_path: Path) -> None:
    sc = pod(tmp_path, "attach")
    sid = await runtime.run_pod_sandbox(sc)
    cid = await start(runtime, sid, sc, image(busybox_rootfs), "echo",
                      "while read line; do echo got $line; done; exit 9", stdin=True,
                      stdin_once=True)
    session = await runtime.attach(cid, stdin=True)
    assert session.stdin is not None and session.stdout is not None
    session.stdin.write(b"one\n")
    await session.stdin.drain()
    assert await asyncio.wait_for(session.stdout.read(), 5) == b"got one\n"
    log_path = (await runtime.container_status(cid)).log_path
    os.rename(log_path, log_path + ".1")  # what log rotation does
    await runtime.reopen_container_log(cid)
    session.stdin.write(b"two\n")
    await session.stdin.drain()
    assert await asyncio.wait_for(session.stdout.read(), 5) == b"got two\n"
    session.stdin.close()  # EOF ends the read loop
    assert await asyncio.wait_for(session.wait(), 10) == 9
    await session.close()
    assert [t for _, _, t in log_lines(await runtime.container_status(cid))] == ["got two"]
    assert "got one" in read(log_path + ".1")
