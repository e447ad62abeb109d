"""Discovery documents: ``/version``, ``/api``, ``/apis`` (aggregated v2 and legacy).

The aggregated form is chosen when the client asks for it in Accept, and is answered with
the exact Content-Type kubectl requires (kubectl-wire.md 3.1). Documents are built once.
"""

from __future__ import annotations

import base64
import hashlib

import orjson
from aiohttp import web

from kubelite.api import scheme
from kubelite.api.meta import JSON

AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.4+kubelite",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-11-25T00:00:00Z",
    "goVersion": "go1.23.8",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def _storage_hash(res: scheme.Resource) -> str:
    digest = hashlib.sha256(f"{res.group}/{res.version}/{res.kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


def _aggregated_resource(res: scheme.Resource) -> JSON:
    out: JSON = {
        "resource": res.plural,
        "responseKind": {"group": res.group, "version": res.version, "kind": res.kind},
        "scope": "Namespaced" if res.namespaced else "Cluster",
        "singularResource": res.singular,
        "verbs": sorted(res.verbs),
    }
    if res.short_names:
        out["shortNames"] = list(res.short_names)
    if res.categories:
        out["categories"] = list(res.categories)
    if res.subresources:
        out["subresources"] = [
            {
                "subresource": s.name,
                "responseKind": {"group": s.group, "version": s.version, "kind": s.kind},
                "verbs": sorted(s.verbs),
            }
            for s in res.subresources
        ]
    return out


def _aggregated_group(group: str) -> JSON:
    item: JSON = {"metadata": {"creationTimestamp": None}, "versions": []}
    if group:
        item["metadata"]["name"] = group
    for version in scheme.versions_of(group):
        item["versions"].append({
            "version": version,
            "resources": [_aggregated_resource(r) for r in scheme.resources_in(group, version)],
            "freshness": "Current",
        })
    return item


def aggregated(groups: list[str]) -> bytes:
    """The aggregated discovery document (apidiscovery.k8s.io/v2) of ``groups``."""
    return orjson.dumps({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": [_aggregated_group(g) for g in groups],
    })


def _resource_list(group: str, version: str) -> bytes:
    resources: list[JSON] = []
    for res in scheme.resources_in(group, version):
        entry: JSON = {
            "name": res.plural,
            "singularName": res.singular,
            "namespaced": res.namespaced,
            "kind": res.kind,
            "verbs": sorted(res.verbs),
            "storageVersionHash": _storage_hash(res),
        }
        if res.short_names:
            entry["shortNames"] = list(res.short_names)
        if res.categories:
            entry["categories"] = list(res.categories)
        resources.append(entry)
        for sub in res.subresources:
            s: JSON = {
                "name": f"{res.plural}/{sub.name}",
                "singularName": "",
                "namespaced": res.namespaced,
                "kind": sub.kind,
                "verbs": sorted(sub.verbs),
            }
            if (sub.group, sub.version) != (res.group, res.version):
                s["group"] = sub.group
                s["version"] = sub.version
            resources.append(s)
    gv = f"{group}/{version}" if group else version
    return orjson.dumps({
        "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources,
    })


class Discovery:
    """Serves the discovery endpoints from documents built at start."""

    def __init__(self) -> None:
        named = [g for g in scheme.groups() if g]
        self._core_agg = aggregated([""])
        self._apis_agg = aggregated(named)
        self._core_legacy = orjson.dumps({
            "kind": "APIVersions",
            "versions": scheme.versions_of(""),
            "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}
            ],
        })
        groups = []
        for g in named:
            versions = [{"groupVersion": f"{g}/{v}", "version": v} for v in scheme.versions_of(g)]
            groups.append({"name": g, "versions": versions, "preferredVersion": versions[0]})
        self._apis_legacy = orjson.dumps(
            {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
        )
        self._groups = {g["name"]: g for g in groups}
        self._lists = {
            (g, v): _resource_list(g, v)
            for g in scheme.groups() for v in scheme.versions_of(g)
        }
        self._etags = {
            name: '"' + hashlib.sha256(body).hexdigest()[:32].upper() + '"'
            for name, body in (("core", self._core_agg), ("apis", self._apis_agg))
        }

    @staticmethod
    def _wants_aggregated(request: web.Request) -> bool:
        """Whether Accept names the aggregated v2 form (the only one served)."""
        for part in request.headers.get("Accept", "").split(","):
            params = dict(p.strip().partition("=")[::2] for p in part.split(";")[1:])
            if (params.get("as") == "APIGroupDiscoveryList"
                    and params.get("g") == "apidiscovery.k8s.io" and params.get("v") == "v2"):
                return True
        return False

    def _respond(self, request: web.Request, agg: bytes, legacy: bytes, tag: str) -> web.Response:
        headers = {"Vary": "Accept"}
        if self._wants_aggregated(request):
            headers["Etag"] = self._etags[tag]
            if request.headers.get("If-None-Match") == self._etags[tag]:
                return web.Response(status=304, headers=headers)
            return web.Response(body=agg, headers={**headers, "Content-Type": AGGREGATED_V2})
        return web.Response(body=legacy, content_type="application/json", headers=headers)

    async def api(self, request: web.Request) -> web.Response:
        return self._respond(request, self._core_agg, self._core_legacy, "core")

    async def apis(self, request: web.Request) -> web.Response:
        return self._respond(request, self._apis_agg, self._apis_legacy, "apis")

    async def version(self, request: web.Request) -> web.Response:
        return web.json_response(VERSION)

    def group(self, name: str) -> bytes | None:
        g = self._groups.get(name)
        if g is None:
            return None
        return orjson.dumps({"kind": "APIGroup", "apiVersion": "v1", **g})

    def resource_list(self, group: str, version: str) -> bytes | None:
        return self._lists.get((group, version))
