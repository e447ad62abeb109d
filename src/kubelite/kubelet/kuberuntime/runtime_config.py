"""Pod spec -> the runtime's PodSandboxConfig and ContainerConfig (pure translation).

Contract: cpu requests become shares (milliCPU * 1024 / 1000, at least 2), cpu limits a
CFS quota over a 100 ms period (at least 1 ms), memory limits bytes; container security
settings override the pod's. Runtime labels carry the pod uid, name, namespace and
container name; annotations carry the restart count and the spec hash.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kubelite.api.quantity import milli_value
from kubelite.api.quantity import value as qvalue
from kubelite.kubelet import labels as L
from kubelite.kubelet.dns_config import pod_dns_config
from kubelite.kubelet.podspec import JSON, container_hash, grace_period, meta, spec
from kubelite.runtime.protocol import (
    ContainerConfig,
    DNSConfig,
    HostEntry,
    ImageSpec,
    Mount,
    PodSandboxConfig,
    PortMapping,
    Resources,
    SecurityContext,
)

CPU_PERIOD = 100_000
DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log"


def pod_labels(pod: JSON) -> dict[str, str]:
    m = meta(pod)
    return {L.POD_UID: str(m.get("uid")), L.POD_NAME: str(m.get("name")),
            L.POD_NAMESPACE: str(m.get("namespace") or "default"), L.MANAGED: "true"}


def log_directory(logs_root: str, pod: JSON) -> str:
    m = meta(pod)
    return f"{logs_root}/{m.get('namespace') or 'default'}_{m.get('name')}_{m.get('uid')}"


def sandbox_config(pod: JSON, attempt: int, logs_root: str, *, cluster_dns: Sequence[str] = (),
                   cluster_domain: str = "cluster.local",
                   host_dns: DNSConfig | None = None) -> PodSandboxConfig:
    m = meta(pod)
    s = spec(pod)
    ns = str(m.get("namespace") or "default")
    ports: list[PortMapping] = []
    for c in s.get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("hostPort"):
                ports.append(PortMapping(int(p["containerPort"]), int(p["hostPort"]),
                                         str(p.get("protocol") or "TCP"),
                                         str(p.get("hostIP") or "")))
    dns = pod_dns_config(pod, tuple(cluster_dns), cluster_domain, host_dns)
    hosts = tuple(HostEntry(str(h.get("ip")), tuple(h.get("hostnames") or ()))
                  for h in s.get("hostAliases") or [])
    sysctls = {str(x["name"]): str(x["value"])
               for x in (s.get("securityContext") or {}).get("sysctls") or []}
    hostname = str(s.get("hostname") or m.get("name"))
    return PodSandboxConfig(
        name=str(m.get("name")), namespace=ns, uid=str(m.get("uid")), attempt=attempt,
        hostname=hostname, log_directory=log_directory(logs_root, pod), dns=dns,
        host_entries=hosts, port_mappings=tuple(ports),
        labels=pod_labels(pod), annotations={L.GRACE_PERIOD: str(grace_period(pod))},
        host_network=bool(s.get("hostNetwork")), sysctls=sysctls,
        host_pid=bool(s.get("hostPID")), host_ipc=bool(s.get("hostIPC")),
        share_process_namespace=bool(s.get("shareProcessNamespace")),
    )


def resources(container: JSON) -> Resources:
    r = container.get("resources") or {}
    limits = r.get("limits") or {}
    requests = r.get("requests") or {}
    cpu_req = requests.get("cpu", limits.get("cpu"))
    shares = max(2, milli_value(str(cpu_req)) * 1024 // 1000) if cpu_req is not None else 2
    quota = None
    period = None
    if "cpu" in limits:
        quota = max(1000, milli_value(str(limits["cpu"])) * CPU_PERIOD // 1000)
        period = CPU_PERIOD
    mem = qvalue(str(limits["memory"])) if "memory" in limits else None
    return Resources(cpu_shares=shares, cpu_quota=quota, cpu_period=period,
                     memory_limit_bytes=mem)


def security(pod: JSON, container: JSON) -> SecurityContext:
    psc = spec(pod).get("securityContext") or {}
    csc = container.get("securityContext") or {}
    caps = csc.get("capabilities") or {}
    user = csc.get("runAsUser", psc.get("runAsUser"))
    group = csc.get("runAsGroup", psc.get("runAsGroup"))
    groups = [int(g) for g in psc.get("supplementalGroups") or []]
    if psc.get("fsGroup") is not None:
        groups.append(int(psc["fsGroup"]))
    return SecurityContext(
        run_as_user=int(user) if user is not None else None,
        run_as_group=int(group) if group is not None else None,
        supplemental_groups=tuple(groups),
        privileged=bool(csc.get("privileged")),
        add_capabilities=tuple(caps.get("add") or ()),
        drop_capabilities=tuple(caps.get("drop") or ()),
        readonly_rootfs=bool(csc.get("readOnlyRootFilesystem")),
        no_new_privs=csc.get("allowPrivilegeEscalation") is False,
    )


def mounts(container: JSON, volume_paths: Mapping[str, str],
           termination_log: str = "") -> tuple[Mount, ...]:
    out: list[Mount] = []
    for vm in container.get("volumeMounts") or []:
        host = volume_paths.get(str(vm.get("name")))
        if host is None:
            continue
        if vm.get("subPath"):
            host = f"{host}/{vm['subPath']}"
        out.append(Mount(host, str(vm.get("mountPath")), bool(vm.get("readOnly"))))
    if termination_log:
        path = str(container.get("terminationMessagePath") or DEFAULT_TERMINATION_MESSAGE_PATH)
        out.append(Mount(termination_log, path, False))
    return tuple(out)


def container_config(pod: JSON, container: JSON, kind: str, attempt: int, image: ImageSpec,
                     env: Sequence[tuple[str, str]], command: Sequence[str],
                     args: Sequence[str], volume_paths: Mapping[str, str],
                     termination_log: str = "", pid_namespace_of: str = "") -> ContainerConfig:
    name = str(container["name"])
    labels = {**pod_labels(pod), L.CONTAINER_NAME: name, L.CONTAINER_TYPE: kind}
    annotations = {
        L.CONTAINER_HASH: container_hash(container),
        L.RESTART_COUNT: str(attempt),
        L.TERMINATION_MESSAGE_PATH: str(container.get("terminationMessagePath")
                                        or DEFAULT_TERMINATION_MESSAGE_PATH),
        L.TERMINATION_MESSAGE_POLICY: str(container.get("terminationMessagePolicy") or "File"),
        L.TERMINATION_MESSAGE_HOST_PATH: termination_log,
    }
    return ContainerConfig(
        name=name, image=image, attempt=attempt, command=tuple(command), args=tuple(args),
        env=tuple(env), working_dir=str(container.get("workingDir") or ""),
        mounts=mounts(container, volume_paths, termination_log),
        log_path=f"{name}/{attempt}.log", labels=labels, annotations=annotations,
        stdin=bool(container.get("stdin")), stdin_once=bool(container.get("stdinOnce")),
        tty=bool(container.get("tty")), resources=resources(container),
        security=security(pod, container), pid_namespace_of=pid_namespace_of,
    )
