"""Pure parts of the OCI runtime: command/env resolution, users, the OCI spec."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelite.runtime.oci.spec import (
    DEFAULT_CAPABILITIES,
    HostLimits,
    SandboxPaths,
    build_spec,
    capabilities,
)
from kubelite.runtime.oci.users import resolve_user
from kubelite.runtime.protocol import (
    DEFAULT_PATH,
    ContainerConfig,
    CreateContainerError,
    ImageSpec,
    Mount,
    MountPropagation,
    Resources,
    SecurityContext,
    exit_reason,
    resolve_argv,
    resolve_env,
)

IMG = ImageSpec(ref="img", layers=("/l",), entrypoint=("/ep",), cmd=("c1", "c2"),
                env=("PATH=/bin", "A=image"))
LIMITS = HostLimits(nofile_hard=20000, oom_score_adj_min=-100, cap_last=40)


@pytest.mark.parametrize(
    ("command", "args", "expected"),
    [
        ((), (), ["/ep", "c1", "c2"]),
        (("/cmd",), (), ["/cmd"]),
        (("/cmd",), ("x",), ["/cmd", "x"]),
        ((), ("x", "y"), ["/ep", "x", "y"]),
    ],
)
def test_argv_follows_kubernetes_rules(
    command: tuple[str, ...], args: tuple[str, ...], expected: list[str]
) -> None:
    assert resolve_argv(ContainerConfig(name="c", image=IMG, command=command, args=args)) == (
        expected
    )


def test_no_command_at_all_is_a_create_error() -> None:
    with pytest.raises(CreateContainerError):
        resolve_argv(ContainerConfig(name="c", image=ImageSpec(ref="i", layers=("/l",))))


def test_env_merges_image_hostname_and_config() -> None:
    cfg = ContainerConfig(name="c", image=IMG, env=(("A", "pod"), ("B", "b")))
    assert resolve_env(cfg, "web-0") == ["PATH=/bin", "A=pod", "HOSTNAME=web-0", "B=b"]
    bare = ContainerConfig(name="c", image=ImageSpec(ref="i", layers=("/l",), cmd=("x",)))
    assert resolve_env(bare) == [f"PATH={DEFAULT_PATH}"]


def test_exit_reasons() -> None:
    assert exit_reason(0, False) == "Completed"
    assert exit_reason(2, False) == "Error"
    assert exit_reason(137, True) == "OOMKilled"


def test_capabilities_default_add_drop_privileged() -> None:
    assert capabilities((), (), False, 40) == list(DEFAULT_CAPABILITIES)
    caps = capabilities(("NET_ADMIN",), ("CAP_KILL", "mknod"), False, 40)
    assert "CAP_NET_ADMIN" in caps and "CAP_KILL" not in caps and "CAP_MKNOD" not in caps
    assert capabilities(("NET_BIND_SERVICE",), ("ALL",), False, 40) == ["CAP_NET_BIND_SERVICE"]
    assert len(capabilities((), (), True, 40)) == 41
    assert len(capabilities((), (), True, 37)) == 38  # older kernels know fewer


def spec_for(cfg: ContainerConfig, sandbox: SandboxPaths | None = None) -> dict:  # type: ignore[type-arg]
    return build_spec(
        cfg, rootfs="/r", sandbox=sandbox or SandboxPaths(), cgroups_path="/k/pod/c",
        uid=0, gid=0, limits=LIMITS,
    )


def test_spec_shares_pod_namespaces_and_files() -> None:
    sb = SandboxPaths(netns="/run/netns/x", ipcns="/s/ipc", utsns="/s/uts", hostname="web",
                      resolv_conf="/s/resolv.conf", hosts="/s/hosts", hostname_file="/s/hn",
                      shm="/s/shm")
    spec = spec_for(ContainerConfig(name="c", image=IMG), sb)
    ns = {n["type"]: n.get("path") for n in spec["linux"]["namespaces"]}
    assert ns == {"pid": None, "mount": None, "network": "/run/netns/x", "ipc": "/s/ipc",
                  "uts": "/s/uts"}
    assert "hostname" not in spec  # set once on the pod's UTS namespace
    mounts = {m["destination"]: m for m in spec["mounts"]}
    assert mounts["/etc/resolv.conf"]["source"] == "/s/resolv.conf"
    assert mounts["/etc/hosts"]["source"] == "/s/hosts"
    assert mounts["/dev/shm"]["source"] == "/s/shm"
    for dest in ("/proc", "/dev", "/dev/pts", "/dev/mqueue", "/sys", "/sys/fs/cgroup"):
        assert dest in mounts
    assert "/proc/kcore" in spec["linux"]["maskedPaths"]
    assert "/proc/sys" in spec["linux"]["readonlyPaths"]
    assert "HOSTNAME=web" in spec["process"]["env"]
    host = spec_for(ContainerConfig(name="c", image=IMG),
                    SandboxPaths(ipcns="/s/ipc", hostname="node1"))
    assert {n["type"] for n in host["linux"]["namespaces"]} == {"pid", "mount", "ipc"}
    assert "hostname" not in host


def test_spec_clamps_to_host_limits_and_maps_resources() -> None:
    cfg = ContainerConfig(
        name="c", image=IMG,
        resources=Resources(cpu_shares=512, cpu_quota=50000, memory_limit_bytes=1 << 26,
                            pids_limit=64, oom_score_adj=-999),
    )
    spec = spec_for(cfg)
    assert spec["process"]["rlimits"] == [
        {"type": "RLIMIT_NOFILE", "hard": 20000, "soft": 20000}
    ]
    assert spec["process"]["oomScoreAdj"] == -100
    res = spec["linux"]["resources"]
    assert res["cpu"] == {"shares": 512, "quota": 50000, "period": 100000}
    assert res["memory"] == {"limit": 1 << 26, "swap": 1 << 26}
    assert res["pids"] == {"limit": 64}
    assert spec["linux"]["cgroupsPath"] == "/k/pod/c"


def test_spec_security_and_mounts() -> None:
    cfg = ContainerConfig(
        name="c", image=IMG, working_dir="/work",
        mounts=(Mount("/host/a", "/a", readonly=True),
                Mount("/host/b", "/b", propagation=MountPropagation.HOST_TO_CONTAINER)),
        security=SecurityContext(readonly_rootfs=True, no_new_privs=True),
    )
    spec = spec_for(cfg)
    mounts = {m["destination"]: m for m in spec["mounts"]}
    assert mounts["/a"]["options"] == ["rbind", "rprivate", "ro"]
    assert mounts["/b"]["options"] == ["rbind", "rslave", "rw"]
    assert spec["linux"]["rootfsPropagation"] == "rslave"
    assert spec["root"] == {"path": "/r", "readonly": True}
    assert spec["process"]["noNewPrivileges"] is True
    assert spec["process"]["cwd"] == "/work"
    priv = spec_for(ContainerConfig(name="c", image=IMG,
                                    security=SecurityContext(privileged=True)))
    assert "maskedPaths" not in priv["linux"]
    assert priv["linux"]["resources"]["devices"] == [{"allow": True, "access": "rwm"}]
    with pytest.raises(CreateContainerError):
        spec_for(ContainerConfig(name="c", image=IMG, mounts=(Mount("/h", "rel"),)))


def test_users_from_image_passwd(tmp_path: Path) -> None:
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    (lower / "etc").mkdir(parents=True)
    (upper / "etc").mkdir(parents=True)
    (lower / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    (upper / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\nnginx:x:101:102::/:/x\n")
    (upper / "etc" / "group").write_text("root:x:0:\nnginx:x:102:\nweb:x:300:nginx\n")
    layers = [str(lower), str(upper)]
    none = SecurityContext()
    assert resolve_user(layers, "", none) == (0, 0, [])
    assert resolve_user(layers, "nginx", none) == (101, 102, [300])
    assert resolve_user(layers, "1000:2000", none) == (1000, 2000, [])
    assert resolve_user(layers, "nginx:web", none) == (101, 300, [])
    assert resolve_user(layers, "nginx", SecurityContext(run_as_user=5, run_as_group=6)) == (
        5, 6, [],
    )
    with pytest.raises(CreateContainerError):
        resolve_user(layers, "ghost", none)
