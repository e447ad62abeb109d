"""Pod sandboxes: namespaces, /dev/shm, resolv.conf and hosts, the pod network, records.

Contract: a sandbox has no process. :meth:`SandboxOps.run_pod_sandbox` makes the pod's IPC
and UTS namespaces (bind-mounted files made with ``unshare``), one tmpfs ``/dev/shm``, the
pod's ``resolv.conf``, ``hosts`` and ``hostname`` files under ``root/sandboxes/<id>``, and
(unless hostNetwork) its network namespace through the injected
:class:`~kubelite.runtime.protocol.PodNetwork`; a failure removes all of it. Stopping a
sandbox stops its containers and tears its network down; removing it removes its
containers, mounts and cgroup. Both are idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
from collections.abc import Mapping

from kubelite.runtime.oci import cgroups, linux
from kubelite.runtime.oci.base import _matches, _now, _parse_time, _run
from kubelite.runtime.oci.containers import ContainerOps
from kubelite.runtime.oci.pidns import kill_pid_holder, start_pid_holder
from kubelite.runtime.oci.state import SandboxRecord, load
from kubelite.runtime.protocol import (
    ContainerState,
    NetworkSetupError,
    PodSandboxConfig,
    PodSandboxStatus,
    RuntimeServiceError,
    SandboxNotFound,
    SandboxState,
)


class SandboxOps(ContainerOps):
    """The sandbox half of the CRI runtime service; it stops and removes its containers."""

    async def run_pod_sandbox(self, config: PodSandboxConfig) -> str:
        sid = secrets.token_hex(32)
        sdir = self._sdir(sid)
        os.makedirs(os.path.join(sdir, "ns"))
        hostname = (config.hostname or config.name)[:63]
        parent = config.cgroup_parent.strip("/") or f"{self.cgroup_root}/pod{config.uid}"
        rec = SandboxRecord(
            id=sid, name=config.name, namespace=config.namespace, uid=config.uid,
            attempt=config.attempt, created_at=_now(), state=SandboxState.READY.value,
            hostname=hostname, log_directory=config.log_directory, cgroup_parent=parent,
            host_network=config.host_network, host_pid=config.host_pid,
            host_ipc=config.host_ipc,
            port_mappings=[
                {"hostPort": p.host_port, "containerPort": p.container_port,
                 "protocol": p.protocol.lower(), "hostIP": p.host_ip}
                for p in config.port_mappings if p.host_port
            ],
            labels=dict(config.labels), annotations=dict(config.annotations),
            sysctls=dict(config.sysctls),
        )
        self._save_s(rec)
        try:
            await self._setup_sandbox(rec, config)
        except BaseException:
            with contextlib.suppress(Exception):
                await self.remove_pod_sandbox(sid)
            raise
        return sid

    async def _setup_sandbox(self, rec: SandboxRecord, config: PodSandboxConfig) -> None:
        sdir = self._sdir(rec.id)
        if config.log_directory:
            os.makedirs(config.log_directory, exist_ok=True)
        # IPC and UTS namespaces shared by the pod's containers.
        ipc, uts = os.path.join(sdir, "ns", "ipc"), os.path.join(sdir, "ns", "uts")
        args = ["unshare", f"--ipc={ipc}"]
        _write_file(ipc, "")
        _write_file(uts, "")
        if not rec.host_network:
            args.append(f"--uts={uts}")
        args += ["hostname", rec.hostname] if not rec.host_network else ["true"]
        code, _, err = await _run(args)
        if code != 0:
            raise RuntimeServiceError(f"creating pod namespaces: {err.decode().strip()}")
        rec.ipcns_path = ipc
        rec.utsns_path = "" if rec.host_network else uts
        if config.share_process_namespace and not config.host_pid:
            rec.pid_holder = await start_pid_holder()
        # One /dev/shm per pod.
        shm = os.path.join(sdir, "shm")
        os.makedirs(shm, exist_ok=True)
        linux.mount("shm", shm, "tmpfs", linux.MS_NOSUID | linux.MS_NODEV | linux.MS_NOEXEC,
                    "mode=1777,size=65536k")
        rec.shm_path = shm
        self._save_s(rec)
        self._write_resolv_conf(rec, config)
        if not rec.host_network:
            if self.network is None:
                raise NetworkSetupError("no pod network configured (only hostNetwork pods)")
            try:
                rec.netns_path = await self.network.create_namespace(rec.id)
                self._save_s(rec)
                rec.ip = await self.network.setup(
                    rec.id, rec.netns_path, pod_namespace=rec.namespace, pod_name=rec.name,
                    pod_uid=rec.uid, port_mappings=rec.port_mappings,
                )
            except RuntimeServiceError:
                raise
            except Exception as exc:
                raise NetworkSetupError(f"pod network setup failed: {exc}") from exc
        self._write_hosts(rec, config)
        _write_file(os.path.join(sdir, "hostname"), rec.hostname + "\n")
        self._save_s(rec)

    def _write_resolv_conf(self, rec: SandboxRecord, config: PodSandboxConfig) -> None:
        path = os.path.join(self._sdir(rec.id), "resolv.conf")
        if config.dns is None:
            try:
                with open("/etc/resolv.conf") as f:
                    text = f.read()
            except OSError:
                text = ""
        else:
            lines = [f"nameserver {s}" for s in config.dns.servers]
            if config.dns.searches:
                lines.append("search " + " ".join(config.dns.searches))
            if config.dns.options:
                lines.append("options " + " ".join(config.dns.options))
            text = "\n".join(lines) + "\n"
        with open(path, "w") as f:
            f.write(text)

    def _write_hosts(self, rec: SandboxRecord, config: PodSandboxConfig) -> None:
        path = os.path.join(self._sdir(rec.id), "hosts")
        if rec.host_network:
            try:
                with open("/etc/hosts") as f:
                    text = f.read()
            except OSError:
                text = "127.0.0.1\tlocalhost\n"
        else:
            lines = [
                "# Kubernetes-managed hosts file.",
                "127.0.0.1\tlocalhost",
                "::1\tlocalhost ip6-localhost ip6-loopback",
                "fe00::0\tip6-localnet",
                "fe00::0\tip6-mcastprefix",
                "fe00::1\tip6-allnodes",
                "fe00::2\tip6-allrouters",
            ]
            if rec.ip:
                lines.append(f"{rec.ip}\t{rec.hostname}")
            if config.host_entries:
                lines.append("")
                lines.append("# Entries added by HostAliases.")
                for entry in config.host_entries:
                    lines.append(f"{entry.ip}\t" + "\t".join(entry.hostnames))
            text = "\n".join(lines) + "\n"
        with open(path, "w") as f:
            f.write(text)

    async def stop_pod_sandbox(self, sandbox_id: str) -> None:
        rec = self._srec(sandbox_id)
        for c in await self.list_containers(sandbox_id=sandbox_id):
            if c.state in (ContainerState.RUNNING, ContainerState.CREATED, ContainerState.UNKNOWN):
                await self.stop_container(c.id, 0)
        async with self._lock(sandbox_id):
            rec = self._srec(sandbox_id)
            await self._teardown_network(rec)
            kill_pid_holder(rec.pid_holder)
            rec.state = SandboxState.NOTREADY.value
            self._save_s(rec)

    async def _teardown_network(self, rec: SandboxRecord) -> None:
        if rec.host_network or not rec.netns_path:
            return
        if self.network is not None:
            try:
                await self.network.teardown(
                    rec.id, rec.netns_path, pod_namespace=rec.namespace, pod_name=rec.name,
                    pod_uid=rec.uid, port_mappings=rec.port_mappings,
                )
                await self.network.remove_namespace(rec.id)
            except Exception as exc:
                raise NetworkSetupError(f"pod network teardown failed: {exc}") from exc
        _remove_ns_file(rec.netns_path)  # if still there (no network object)
        rec.netns_path = ""
        self._save_s(rec)

    async def remove_pod_sandbox(self, sandbox_id: str) -> None:
        try:
            rec = self._srec(sandbox_id)
        except SandboxNotFound:
            return
        for c in await self.list_containers(sandbox_id=sandbox_id):
            await self.remove_container(c.id)
        async with self._lock(sandbox_id):
            await self._teardown_network(rec)
            kill_pid_holder(rec.pid_holder)
            sdir = self._sdir(sandbox_id)
            for point in linux.mount_points_under(sdir):
                linux.umount(point)
            cgroups.remove(rec.cgroup_parent)
            await asyncio.to_thread(shutil.rmtree, sdir, True)
        self._locks.pop(sandbox_id, None)

    def _sandbox_status(self, rec: SandboxRecord) -> PodSandboxStatus:
        created = _parse_time(rec.created_at)
        assert created is not None
        return PodSandboxStatus(
            id=rec.id, name=rec.name, namespace=rec.namespace, uid=rec.uid,
            attempt=rec.attempt, state=SandboxState(rec.state), created_at=created,
            ip=rec.ip, labels=rec.labels, annotations=rec.annotations,
            host_network=rec.host_network, netns_path=rec.netns_path,
        )

    async def pod_sandbox_status(self, sandbox_id: str) -> PodSandboxStatus:
        return self._sandbox_status(self._srec(sandbox_id))

    async def list_pod_sandboxes(
        self, *, state: SandboxState | None = None, labels: Mapping[str, str] | None = None
    ) -> list[PodSandboxStatus]:
        # state files are read off the event loop (a relist reads one per sandbox)
        return await asyncio.to_thread(self._list_sandboxes, state, labels)

    def _list_sandboxes(
        self, state: SandboxState | None, labels: Mapping[str, str] | None
    ) -> list[PodSandboxStatus]:
        out: list[PodSandboxStatus] = []
        for sid in sorted(os.listdir(self._sandboxes)):
            rec = load(os.path.join(self._sdir(sid), "sandbox.json"), SandboxRecord)
            if rec is None:
                continue
            st = self._sandbox_status(rec)
            if (state is None or st.state == state) and _matches(st.labels, labels):
                out.append(st)
        return out


def _write_file(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def _remove_ns_file(path: str) -> None:
    if path and os.path.lexists(path):
        linux.umount(path)
        with contextlib.suppress(OSError):
            os.unlink(path)
