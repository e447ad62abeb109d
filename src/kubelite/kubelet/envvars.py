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
from collections.abc import Awaitable, Callable, Mapping

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


async def container_env(pod: JSON, container: JSON, get: ObjectGetter, *,
                        host_ip: str = "", pod_ip: str = "",
                        node_alloc: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """The container's variables in order (envFrom first, then env; later wins)."""
    ns = meta(pod).get("namespace") or "default"
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
            env[name] = expand(str(var.get("value") or ""), env)
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
    return list(env.items())
