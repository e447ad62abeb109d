"""Resource request paths, as kube-apiserver's RequestInfoFactory reads them.

``/api/v1/namespaces/default/pods/web/log`` -> group "", version v1, namespace default,
resource pods, name web, subresource log. Paths that are not resource paths give None.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubelite.api import scheme


@dataclass(frozen=True)
class RequestInfo:
    group: str
    version: str
    resource: scheme.Resource | None  # None when the plural is not served
    plural: str
    namespace: str | None
    name: str | None
    subresource: str | None
    extra: tuple[str, ...] = ()  # path after the subresource (proxy)


def parse(path: str) -> RequestInfo | None:
    """Parse an API resource path; None for non-resource paths (discovery, health...)."""
    parts = [p for p in path.split("/") if p]
    if not parts:
        return None
    if parts[0] == "api":
        if len(parts) < 3:
            return None
        group, version, rest = "", parts[1], parts[2:]
    elif parts[0] == "apis":
        if len(parts) < 4:
            return None
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace: str | None = None
    if (
        rest[0] == "namespaces"
        and len(rest) >= 3
        and (res := scheme.lookup(group, version, rest[2])) is not None
        and res.namespaced
    ):
        namespace = rest[1]
        rest = rest[2:]
    elif rest[0] == "namespaces" and len(rest) >= 3 and group != "":
        # /apis/g/v/namespaces/ns/<unknown>: a namespaced request for an unserved plural
        namespace = rest[1]
        rest = rest[2:]
    plural = rest[0]
    resource = scheme.lookup(group, version, plural)
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    extra = tuple(rest[3:])
    return RequestInfo(group, version, resource, plural, namespace, name, sub, extra)
