"""Acting on a pod (the second half of rule 2): inspect the runtime, compute the actions,
carry them out, and stop or remove a pod's containers.

Contract: :meth:`PodSyncer.sync` converges one step towards the spec and never raises
for a container-level failure: it returns the waiting reason and message of each
container it could not start (ErrImagePull, CrashLoopBackOff, ...) and when to retry.
Events carry Kubernetes' reasons and texts.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from kubelite.api.meta_time import Clock, utcnow
from kubelite.kubelet import labels as L
from kubelite.kubelet.backoff import Backoff
from kubelite.kubelet.config import KubeletConfig
from kubelite.kubelet.dns_config import HostResolvConf
from kubelite.kubelet.envvars import ContainerConfigError, ObjectGetter, container_env, expand
from kubelite.kubelet.image_puller import ImagePuller, ImagePullError
from kubelite.kubelet.kuberuntime.actions import PodRuntimeState, ProbeFailures, compute_pod_actions
from kubelite.kubelet.kuberuntime.runtime_config import container_config, sandbox_config
from kubelite.kubelet.podspec import (
    JSON,
    app_containers,
    containers_of,
    ephemeral_containers,
    find,
    grace_period,
    init_containers,
    meta,
    sidecars,
)
from kubelite.kubelet.volumes import VolumeError, VolumeManager
from kubelite.runtime.protocol import (
    ContainerRuntime,
    ContainerState,
    ContainerStatus,
    PodSandboxConfig,
    RuntimeServiceError,
    SandboxState,
)

log = logging.getLogger(__name__)

# (pod, type, reason, message, fieldPath)
EventSink = Callable[[JSON, str, str, str, str], None]


@dataclass
class SyncResult:
    waiting: dict[str, tuple[str, str]] = field(default_factory=dict)
    retry_after: float | None = None

    def retry(self, seconds: float) -> None:
        self.retry_after = seconds if self.retry_after is None else min(self.retry_after,
                                                                        seconds)


_SPEC_LIST = {"init": "initContainers", "app": "containers",
              "ephemeral": "ephemeralContainers"}


def field_path(kind: str, name: str) -> str:
    return f"spec.{_SPEC_LIST.get(kind, 'containers')}{{{name}}}"


class PodSyncer:
    def __init__(self, runtime: ContainerRuntime, puller: ImagePuller, volumes: VolumeManager,
                 get: ObjectGetter, events: EventSink, config: KubeletConfig, logs_root: str,
                 *, host_ip: Callable[[], str], clock: Clock = utcnow,
                 backoff: Backoff | None = None,
                 services: Callable[[], list[JSON]] = list) -> None:
        """``services``: the cluster's Services, for the pods' service variables."""
        self.services = services
        self.runtime = runtime
        self.puller = puller
        self.volumes = volumes
        self.get = get
        self.events = events
        self.config = config
        self.logs_root = logs_root
        self.host_ip = host_ip
        self.clock = clock
        self.backoff = backoff or Backoff(clock=clock)
        self.host_dns = HostResolvConf(config.resolv_conf)

    async def inspect(self, uid: str) -> PodRuntimeState:
        sandboxes = await self.runtime.list_pod_sandboxes(labels={L.POD_UID: uid})
        containers = await self.runtime.list_containers(labels={L.POD_UID: uid})
        return PodRuntimeState(tuple(sandboxes), tuple(containers))

    # -- sync ----------------------------------------------------------------------------

    async def sync(self, pod: JSON, state: PodRuntimeState,
                   probe_failures: ProbeFailures | None = None,
                   started: Mapping[str, bool] | None = None) -> SyncResult:
        result = SyncResult()
        actions = compute_pod_actions(pod, state, probe_failures, started)
        if actions.kill_pod:
            if actions.create_sandbox and state.sandboxes:
                self.events(pod, "Normal", "SandboxChanged",
                            "Pod sandbox changed, it will be killed and re-created.", "")
            await self.kill_pod(pod, state, grace_period(pod))
            if not actions.create_sandbox:
                return result
        for cid, why in actions.containers_to_kill.items():
            st = next((c for c in state.containers if c.id == cid), None)
            if st is not None:
                await self._stop_container(pod, st,
                                           actions.kill_grace.get(cid, grace_period(pod)), why)
        sandbox_id = actions.sandbox_id
        try:
            volume_paths = await self.volumes.setup(pod, self.host_ip())
        except VolumeError as exc:
            self.events(pod, "Warning", "FailedMount", str(exc), "")
            result.retry(2.0)
            return result
        sb_config = sandbox_config(pod, actions.sandbox_attempt, self.logs_root,
                                   cluster_dns=self.config.cluster_dns,
                                   cluster_domain=self.config.cluster_domain,
                                   host_dns=self.host_dns.get())
        if actions.create_sandbox:
            try:
                sandbox_id = await self.runtime.run_pod_sandbox(sb_config)
            except RuntimeServiceError as exc:
                self.events(pod, "Warning", "FailedCreatePodSandBox",
                            f"Failed to create pod sandbox: {exc}", "")
                result.retry(2.0)
                return result
        else:
            sb = state.latest_sandbox()
            if sb is not None:
                sb_config = sandbox_config(pod, sb.attempt, self.logs_root,
                                           cluster_dns=self.config.cluster_dns,
                                           cluster_domain=self.config.cluster_domain,
                                   host_dns=self.host_dns.get())
        pod_ip = ""
        if (actions.init_containers_to_start or actions.containers_to_start
                or actions.ephemeral_to_start):
            try:
                pod_ip = (await self.runtime.pod_sandbox_status(sandbox_id)).ip
            except RuntimeServiceError:
                pod_ip = ""
        for name in actions.init_containers_to_start:
            c = find(init_containers(pod), name)
            assert c is not None
            await self._start(pod, c, "init", sandbox_id, sb_config, state, volume_paths,
                              pod_ip, result)
        for name in actions.containers_to_start:
            c = find(app_containers(pod), name)
            assert c is not None
            await self._start(pod, c, "app", sandbox_id, sb_config, state, volume_paths,
                              pod_ip, result)
        for name in actions.ephemeral_to_start:
            c = find(ephemeral_containers(pod), name)
            assert c is not None
            target = str(c.get("targetContainerName") or "")
            now = await self.inspect(str(meta(pod).get("uid"))) if target else state
            running = [s for s in now.containers if s.name == target
                       and s.state == ContainerState.RUNNING and s.sandbox_id == sandbox_id]
            if target and not running:
                result.retry(1.0)  # its target is not running (yet)
                continue
            await self._start(pod, c, "ephemeral", sandbox_id, sb_config, state,
                              volume_paths, pod_ip, result,
                              pid_namespace_of=running[0].id if running else "")
        return result

    async def _start(self, pod: JSON, c: JSON, kind: str, sandbox_id: str,
                     sb_config: PodSandboxConfig, state: PodRuntimeState,
                     volume_paths: dict[str, str], pod_ip: str, result: SyncResult,
                     pid_namespace_of: str = "") -> None:
        m = meta(pod)
        name = str(c["name"])
        fp = field_path(kind, name)
        pod_desc = f"{m.get('name')}_{m.get('namespace') or 'default'}({m.get('uid')})"
        prev = state.latest(name, kind)
        # back-off counts from the newest exited instance: the latest one, or, when the
        # latest is being killed now (a failed liveness/startup probe), the one before it;
        # so a container that keeps failing its probes also ends in CrashLoopBackOff
        exited = prev if prev is not None and prev.state == ContainerState.EXITED else None
        if exited is None and prev is not None:
            before = state.previous(name, kind)
            if before is not None and before.state == ContainerState.EXITED:
                exited = before
        if exited is not None:
            key = f"{m.get('uid')}/{kind}/{name}"
            finished = exited.finished_at or self.clock()
            if self.backoff.in_backoff_since(key, finished):
                delay = self.backoff.delay(key)
                msg = (f"back-off {_secs(delay)} restarting failed container={name} "
                       f"pod={pod_desc}")
                self.events(pod, "Warning", "BackOff",
                            f"Back-off restarting failed container {name} in pod {pod_desc}", fp)
                result.waiting[name] = ("CrashLoopBackOff", msg)
                result.retry(self.backoff.remaining(key, finished) + 0.05)
                return
            self.backoff.next(key)

        def record(type_: str, reason: str, message: str) -> None:
            self.events(pod, type_, reason, message, fp)

        attempt = prev.attempt + 1 if prev is not None else 0
        try:
            image = await self.puller.ensure(pod, c, record)
        except ImagePullError as exc:
            result.waiting[name] = (exc.reason, exc.message)
            # right after a failure, once more soon (then in back-off: ImagePullBackOff);
            # in back-off, when it ends, as the kubelet's pod worker does
            result.retry(1.0 if exc.reason == "ErrImagePull" else max(exc.retry_after, 1.0))
            return
        try:
            env = await container_env(pod, c, self.get, host_ip=self.host_ip(), pod_ip=pod_ip,
                                      services=self.services())
        except ContainerConfigError as exc:
            record("Warning", "Failed", f"Error: {exc}")
            result.waiting[name] = ("CreateContainerConfigError", str(exc))
            result.retry(2.0)
            return
        envmap = dict(env)
        command = [expand(str(x), envmap) for x in c.get("command") or []]
        args = [expand(str(x), envmap) for x in c.get("args") or []]
        term_log = await asyncio.to_thread(self._termination_file, pod, name, kind, attempt)
        cfg = container_config(pod, c, kind, attempt, image, env, command, args, volume_paths,
                               term_log, pid_namespace_of)
        step = "CreateContainerError"
        try:
            cid = await self.runtime.create_container(sandbox_id, cfg, sb_config)
            record("Normal", "Created", f"Created container: {name}")
            step = "RunContainerError"
            await self.runtime.start_container(cid)
        except RuntimeServiceError as exc:
            record("Warning", "Failed", f"Error: {exc}")
            result.waiting[name] = (step, str(exc))
            result.retry(2.0)
            return
        record("Normal", "Started", f"Started container {name}")
        await self._post_start(pod, c, cid, pod_ip, record)
        await self._gc_instances(state, name, kind, keep_after=attempt - 1)

    async def _post_start(self, pod: JSON, c: JSON, cid: str, pod_ip: str,
                          record: Callable[[str, str, str], None]) -> None:
        hook = ((c.get("lifecycle") or {}).get("postStart")) or None
        if not hook:
            return
        err = await self._run_hook(hook, cid, pod_ip, 30.0)
        if err:
            record("Warning", "FailedPostStartHook", err)
            await self.runtime.stop_container(cid, float(grace_period(pod)))

    async def _run_hook(self, hook: JSON, cid: str, pod_ip: str, timeout: float) -> str:  # noqa: ASYNC109
        """Run an exec or httpGet handler; return an error text, or "" on success."""
        try:
            if "exec" in hook:
                cmd = [str(x) for x in hook["exec"].get("command") or []]
                code, out, err = await self.runtime.exec_sync(cid, cmd, timeout)
                if code != 0:
                    return (f"Exec lifecycle hook ({cmd}) for Container in Pod failed - error: "
                            f"command '{' '.join(cmd)}' exited with {code}: "
                            f"{(out + err).decode(errors='replace')}")
                return ""
            if "httpGet" in hook:
                hg = hook["httpGet"]
                host = hg.get("host") or pod_ip or "127.0.0.1"
                url = f"{str(hg.get('scheme') or 'HTTP').lower()}://{host}:{hg.get('port')}" \
                      f"{hg.get('path') or '/'}"
                async with aiohttp.ClientSession() as s, s.get(
                        url, timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
                    if resp.status >= 400:
                        return f"HTTP lifecycle hook ({hg.get('path')}) failed: {resp.status}"
                return ""
        except (RuntimeServiceError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            return f"lifecycle hook failed: {exc}"
        return ""

    def _termination_file(self, pod: JSON, name: str, kind: str, attempt: int) -> str:
        uid = str(meta(pod).get("uid"))
        d = self.volumes.pod_dir(uid) / "containers" / f"{kind}-{name}"
        d.mkdir(parents=True, exist_ok=True)
        p = d / f"termination-log-{attempt}"
        p.touch(mode=0o666, exist_ok=True)
        os.chmod(p, 0o666)
        return str(p)

    async def _gc_instances(self, state: PodRuntimeState, name: str, kind: str,
                            keep_after: int) -> None:
        """Keep the newest dead instance (for lastState and ``logs --previous``)."""
        for c in state.containers:
            if (c.name == name and c.labels.get(L.CONTAINER_TYPE, "app") == kind
                    and c.attempt < keep_after and c.state == ContainerState.EXITED):
                try:
                    await self.runtime.remove_container(c.id)
                except RuntimeServiceError as exc:
                    log.debug("remove container %s: %s", c.id[:12], exc)

    # -- stopping ------------------------------------------------------------------------

    async def _stop_container(self, pod: JSON | None, c: ContainerStatus, grace: float,
                              message: str = "") -> None:
        if c.state not in (ContainerState.RUNNING, ContainerState.CREATED):
            return
        kind = c.labels.get(L.CONTAINER_TYPE, "app")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        if pod is not None:
            self.events(pod, "Normal", "Killing", message or f"Stopping container {c.name}",
                        field_path(kind, c.name))
            spec_c = find(containers_of(pod, kind), c.name)
            hook = ((spec_c or {}).get("lifecycle") or {}).get("preStop")
            if hook and c.state == ContainerState.RUNNING and grace > 0:
                ip = ""
                try:
                    ip = (await self.runtime.pod_sandbox_status(c.sandbox_id)).ip
                except RuntimeServiceError:
                    pass
                err = await self._run_hook(hook, c.id, ip, grace)
                if err:
                    self.events(pod, "Warning", "FailedPreStopHook", err,
                                field_path(kind, c.name))
        remaining = max(0.0, deadline - loop.time()) if grace > 0 else 0.0
        if grace > 0:
            remaining = max(remaining, 2.0)  # as the kubelet: at least 2 s after preStop
        try:
            await self.runtime.stop_container(c.id, remaining)
        except RuntimeServiceError as exc:
            log.warning("stop container %s: %s", c.id[:12], exc)

    async def kill_pod(self, pod: JSON | None, state: PodRuntimeState, grace: float) -> None:
        """Stop every container (preStop, stop signal, SIGKILL after grace), then the
        sandboxes. Containers and logs stay until :meth:`remove_pod`.

        Native sidecars stop last, one after the other in reverse order, each once the
        containers after it are gone; the grace period is shared by all steps."""
        running = [c for c in state.containers
                   if c.state in (ContainerState.RUNNING, ContainerState.CREATED)]
        order = {str(c["name"]): i for i, c in enumerate(sidecars(pod or {}))}
        side = sorted((c for c in running if c.labels.get(L.CONTAINER_TYPE) == "init"
                       and c.name in order), key=lambda c: -order[c.name])
        first = [c for c in running if c not in side]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        await asyncio.gather(*(self._stop_container(pod, c, grace) for c in first))
        for c in side:
            left = max(0.0, deadline - loop.time()) if grace > 0 else 0.0
            await self._stop_container(pod, c, left)
        for sb in state.sandboxes:
            if sb.state == SandboxState.READY:
                try:
                    await self.runtime.stop_pod_sandbox(sb.id)
                except RuntimeServiceError as exc:
                    log.warning("stop sandbox %s: %s", sb.id[:12], exc)

    async def remove_pod(self, uid: str) -> None:
        state = await self.inspect(uid)
        await self.kill_pod(None, state, 0)
        for sb in state.sandboxes:
            try:
                await self.runtime.remove_pod_sandbox(sb.id)
            except RuntimeServiceError as exc:
                log.warning("remove sandbox %s: %s", sb.id[:12], exc)
        for c in await self.runtime.list_containers(labels={L.POD_UID: uid}):
            try:
                await self.runtime.remove_container(c.id)
            except RuntimeServiceError as exc:
                log.warning("remove container %s: %s", c.id[:12], exc)
        await self.volumes.teardown(uid)

    # -- termination messages ------------------------------------------------------------

    async def termination_messages(self, state: PodRuntimeState) -> dict[str, str]:
        out: dict[str, str] = {}
        for c in state.containers:
            if c.state != ContainerState.EXITED:
                continue
            path = c.annotations.get(L.TERMINATION_MESSAGE_HOST_PATH, "")
            policy = c.annotations.get(L.TERMINATION_MESSAGE_POLICY, "File")
            text = await asyncio.to_thread(_read_message, path, c.log_path,
                                           policy == "FallbackToLogsOnError"
                                           and c.exit_code != 0)
            if text:
                out[c.id] = text
        return out


def _read_message(path: str, log_path: str, fallback: bool) -> str:
    try:
        if path:
            data = Path(path).read_bytes()[:4096]
            if data:
                return data.decode(errors="replace")
    except OSError:
        pass
    if fallback and log_path:
        try:
            lines = Path(log_path).read_text(errors="replace").splitlines()[-80:]
        except OSError:
            return ""
        texts = [ln.split(" ", 3)[3] if ln.count(" ") >= 3 else ln for ln in lines]
        return "\n".join(texts)[-2048:]
    return ""


def _secs(delay: float) -> str:
    if delay >= 60 and delay % 60 == 0:
        return f"{int(delay // 60)}m0s"
    if delay >= 60:
        return f"{int(delay // 60)}m{int(delay % 60)}s"
    return f"{delay:g}s"
