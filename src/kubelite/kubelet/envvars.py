"""Container environment from the pod spec: ``env`` (values, fieldRef, resourceFieldRef,
configMapKeyRef, secretKeyRef), ``envFrom`` and ``$(VAR)`` expansion.

Contract: :func:`expand` follows Kubernetes' rules (``$$`` escapes, an undefined
``$(VAR)`` stays as written). Missing ConfigMaps, Secrets or keys raise
:class:`ContainerConfigError` with Kubernetes' messages (the waiting reason
``CreateContainerConfigError``) unless the reference is optional.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping

from kubelite.api.quantity import parse_quantity
from kubelite.kubelet.podspec import JSON, meta, spec


class ContainerConfigError(Exception):
    """The container's configuration cannot be built (CreateContainerConfigError)."""


# (kind "ConfigMap" | "Secret", namespace, name) -> object or None when not found
ObjectGetter = Callable[[str, str, str], Awaitable[JSON | None]]


def expand(text: str, env: Mapping[str, str]) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "$" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "$":
                out.append("$")
                i += 2
                continue
            if nxt == "(":
                end = text.find(")", i + 2)
                if end != -1:
                    name = text[i + 2:end]
                    if name in env:
                        out.append(env[name])
                    else:
                        out.append(text[i:end + 1])
                    i = end + 1
                    continue
        out.append(ch)
        i += 1
    return "".join(out)


_LABEL_REF = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")


def field_ref(pod: JSON, path: str, host_ip: str = "", pod_ip: str = "") -> str:
    m = meta(pod)
    s = spec(pod)
    simple = {
        "metadata.name": m.get("name", ""),
        "metadata.namespace": m.get("namespace", "default"),
        "metadata.uid": m.get("uid", ""),
        "spec.nodeName": s.get("nodeName", ""),
        "spec.serviceAccountName": s.get("serviceAccountName", ""),
        "status.hostIP": host_ip,
        "status.hostIPs": host_ip,
        "status.podIP": pod_ip,
        "status.podIPs": pod_ip,
    }
    if path in simple:
        return str(simple[path])
    lm = _LABEL_REF.match(path)
    if lm:
        return str((m.get(lm.group(1)) or {}).get(lm.group(2), ""))
    if path in ("metadata.labels", "metadata.annotations"):
        items = m.get(path.split(".")[1]) or {}
        return "\n".join(f'{k}="{v}"' for k, v in sorted(items.items()))
    raise ContainerConfigError(f"unsupported fieldPath: {path}")


def resource_field_ref(container: JSON, ref: JSON, node_alloc: Mapping[str, str]) -> str:
    resource = str(ref.get("resource", ""))
    kind, _, name = resource.partition(".")
    resources = container.get("resources") or {}
    raw = (resources.get(kind) or {}).get(name)
    if raw is None and kind == "limits":
        raw = node_alloc.get(name)
    if raw is None:
        return "0"
    divisor = parse_quantity(str(ref.get("divisor") or "1"))
    return str(math.ceil(parse_quantity(str(raw)) / divisor))


def _data(obj: JSON, kind: str) -> dict[str, str]:
    out = {k: str(v) for k, v in (obj.get("data") or {}).items()}
    if kind == "Secret":
        out = {k: base64.b64decode(v).decode(errors="replace") for k, v in out.items()}
        out.update({k: str(v) for k, v in (obj.get("stringData") or {}).items()})
    else:
        out.update({k: base64.b64decode(v).decode(errors="replace")
                    for k, v in (obj.get("binaryData") or {}).items()})
    return out


async def _lookup(get: ObjectGetter, kind: str, ns: str, name: str,
                  optional: bool) -> dict[str, str] | None:
    obj = await get(kind, ns, name)
    if obj is None:
        if optional:
            return None
        raise ContainerConfigError(f'{kind.lower()} "{name}" not found')
    return _data(obj, kind)


MASTER_SERVICES = ("kubernetes",)  # of the default namespace, in every pod


def _env_name(name: str) -> str:
    return name.upper().replace("-", "_")


def _has_cluster_ip(service: JSON) -> bool:
    ip = (service.get("spec") or {}).get("clusterIP")
    return bool(ip) and ip != "None"


def services_for(pod: JSON, services: Iterable[JSON]) -> list[JSON]:
    """The Services whose variables the pod gets (``getServiceEnvVarMap``): those with a
    cluster IP in its namespace when ``enableServiceLinks`` (default true), and always
    ``default/kubernetes``; sorted by name."""
    ns = meta(pod).get("namespace") or "default"
    links = spec(pod).get("enableServiceLinks", True) is not False
    chosen: dict[str, JSON] = {}
    for svc in services:
        m = svc.get("metadata") or {}
        name, svc_ns = str(m.get("name", "")), m.get("namespace")
        if not _has_cluster_ip(svc):
            continue
        if svc_ns == "default" and name in MASTER_SERVICES:
            chosen.setdefault(name, svc)
        elif svc_ns == ns and links:
            chosen[name] = svc
    return [chosen[k] for k in sorted(chosen)]


def service_env(services: Iterable[JSON]) -> dict[str, str]:
    """``{SVC}_SERVICE_HOST``, ``_SERVICE_PORT`` (and one per named port) and the
    Docker-link variables of each Service (``envvars.FromServices``)."""
    env: dict[str, str] = {}
    for svc in services:
        s = svc.get("spec") or {}
        ports = [p for p in s.get("ports") or [] if isinstance(p, dict)]
        if not _has_cluster_ip(svc) or not ports:
            continue
        ip = str(s["clusterIP"])
        prefix = _env_name(str((svc.get("metadata") or {}).get("name", "")))
        env[f"{prefix}_SERVICE_HOST"] = ip
        env[f"{prefix}_SERVICE_PORT"] = str(ports[0].get("port"))
        for p in ports:
            if p.get("name"):
                env[f"{prefix}_SERVICE_PORT_{_env_name(str(p['name']))}"] = str(p.get("port"))
        for i, p in enumerate(ports):
            proto = str(p.get("protocol") or "TCP")
            host_port = f"[{ip}]:{p.get('port')}" if ":" in ip else f"{ip}:{p.get('port')}"
            url = f"{proto.lower()}://{host_port}"
            if i == 0:
                env[f"{prefix}_PORT"] = url
            pp = f"{prefix}_PORT_{p.get('port')}_{proto.upper()}"
            env[pp] = url
            env[f"{pp}_PROTO"] = proto.lower()
            env[f"{pp}_PORT"] = str(p.get("port"))
            env[f"{pp}_ADDR"] = ip
    return env


async def container_env(pod: JSON, container: JSON, get: ObjectGetter, *,
                        host_ip: str = "", pod_ip: str = "",
                        node_alloc: Mapping[str, str] | None = None,
                        services: Iterable[JSON] = ()) -> list[tuple[str, str]]:
    """The container's variables in order (envFrom first, then env; later wins), then the
    variables of :func:`services_for` the pod that the container does not set itself;
    ``$(VAR)`` in env values may name those too."""
    ns = meta(pod).get("namespace") or "default"
    from_services = service_env(services_for(pod, services))
    env: dict[str, str] = {}
    for src in container.get("envFrom") or []:
        prefix = str(src.get("prefix") or "")
        for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            ref = src.get(key)
            if ref:
                data = await _lookup(get, kind, ns, str(ref.get("name", "")),
                                     bool(ref.get("optional")))
                for k, v in (data or {}).items():
                    env[prefix + k] = v
    for var in container.get("env") or []:
        name = str(var.get("name", ""))
        if "value" in var or "valueFrom" not in var:
            env[name] = expand(str(var.get("value") or ""), {**from_services, **env})
            continue
        vf = var["valueFrom"] or {}
        if "fieldRef" in vf:
            env[name] = field_ref(pod, str(vf["fieldRef"].get("fieldPath", "")), host_ip, pod_ip)
        elif "resourceFieldRef" in vf:
            env[name] = resource_field_ref(container, vf["resourceFieldRef"], node_alloc or {})
        else:
            for kind, key in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
                ref = vf.get(key)
                if not ref:
                    continue
                optional = bool(ref.get("optional"))
                data = await _lookup(get, kind, ns, str(ref.get("name", "")), optional)
                if data is None:
                    break
                k = str(ref.get("key", ""))
                if k not in data:
                    if optional:
                        break
                    raise ContainerConfigError(
                        f"couldn't find key {k} in {kind} {ns}/{ref.get('name', '')}")
                env[name] = data[k]
    return list(env.items()) + [(k, v) for k, v in from_services.items() if k not in env]
