"""A small OCI distribution registry on aiohttp, with faults on demand, for tests.

It serves images built in memory (:func:`layer_tar`, :meth:`FakeRegistry.add_image`) on
127.0.0.1 and can misbehave per blob or manifest: serve corrupted bytes, cut a transfer
short (always, or once: ``truncate-once``; it serves byte ranges to resume), stall, answer
401 without a token endpoint, or demand a bearer token or basic auth.
``blob_gets`` counts blob downloads per digest.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import io
import secrets
import tarfile
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson
import zstandard
from aiohttp import web

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Entry:
    """One tar member: ``kind`` is file, dir, symlink, hardlink or whiteout/opaque markers
    are plain files named ``.wh.X`` / ``.wh..wh..opq``."""

    path: str
    kind: str = "file"
    data: bytes = b""
    mode: int = 0o644
    target: str = ""
    uid: int = 0
    gid: int = 0


def layer_tar(entries: list[Entry]) -> bytes:
    """An uncompressed layer tar of ``entries``, in order."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in entries:
            info = tarfile.TarInfo(e.path)
            info.mode, info.uid, info.gid, info.mtime = e.mode, e.uid, e.gid, 1700000000
            if e.kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif e.kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, e.target
                tar.addfile(info)
            elif e.kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, e.target
                tar.addfile(info)
            else:
                info.size = len(e.data)
                tar.addfile(info, io.BytesIO(e.data))
    return buf.getvalue()


def compress(tar: bytes, kind: str) -> tuple[bytes, str]:
    """(blob, OCI media type) for ``gzip``, ``zstd`` or ``none``."""
    if kind == "gzip":
        return gzip.compress(tar, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip"
    if kind == "zstd":
        return (zstandard.ZstdCompressor().compress(tar),
                "application/vnd.oci.image.layer.v1.tar+zstd")
    return tar, "application/vnd.oci.image.layer.v1.tar"


@dataclass
class BuiltImage:
    manifest: bytes
    manifest_digest: str
    config: bytes
    config_digest: str
    layers: list[tuple[bytes, str]]  # (blob, digest)


@dataclass
class FakeRegistry:
    """Start with :meth:`start`; ``url`` and ``host`` are then set."""

    auth: str = ""  # "", "bearer", "basic", "401-no-challenge"
    username: str = "user"
    password: str = "secret"
    manifests: dict[tuple[str, str], tuple[bytes, str]] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    faults: dict[str, str] = field(default_factory=dict)  # digest or "repo:tag" -> fault
    stall: float = 5.0
    blob_gets: Counter[str] = field(default_factory=Counter)
    manifest_gets: Counter[str] = field(default_factory=Counter)
    range_gets: list[tuple[str, int]] = field(default_factory=list)  # (digest, offset)
    host: str = ""
    url: str = ""
    _tokens: set[str] = field(default_factory=set)
    _runner: web.AppRunner | None = None
    chunk_delay: float = 0.0

    # ---- content -------------------------------------------------------------
    def add_image(self, repo: str, tag: str, layers: list[bytes],
                  compression: list[str] | None = None, config: dict[str, Any] | None = None,
                  media_type: str = OCI_MANIFEST, architecture: str = "amd64") -> BuiltImage:
        """Store an image made of uncompressed layer tars; returns its parts."""
        comp = compression or ["gzip"] * len(layers)
        blobs = [compress(t, c) for t, c in zip(layers, comp, strict=True)]
        cfg = {
            "architecture": architecture, "os": "linux",
            "config": config or {"Cmd": ["/bin/sh"], "Env": ["PATH=/usr/bin:/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [digest_of(t) for t in layers]},
        }
        config_raw = orjson.dumps(cfg)
        layer_type = (lambda mt: mt) if media_type == OCI_MANIFEST else (
            lambda mt: "application/vnd.docker.image.rootfs.diff.tar.gzip")
        manifest = orjson.dumps({
            "schemaVersion": 2, "mediaType": media_type,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json"
                       if media_type == OCI_MANIFEST else
                       "application/vnd.docker.container.image.v1+json",
                       "digest": digest_of(config_raw), "size": len(config_raw)},
            "layers": [{"mediaType": layer_type(mt), "digest": digest_of(b), "size": len(b)}
                       for b, mt in blobs],
        })
        self.blobs[digest_of(config_raw)] = config_raw
        for b, _ in blobs:
            self.blobs[digest_of(b)] = b
        md = digest_of(manifest)
        self.manifests[(repo, tag)] = (manifest, media_type)
        self.manifests[(repo, md)] = (manifest, media_type)
        return BuiltImage(manifest, md, config_raw, digest_of(config_raw),
                          [(b, digest_of(b)) for b, _ in blobs])

    def add_index(self, repo: str, tag: str, entries: list[tuple[BuiltImage, dict[str, str]]]
                  ) -> str:
        """An OCI index of (image, platform) entries under ``repo:tag``; returns its digest."""
        raw = orjson.dumps({
            "schemaVersion": 2, "mediaType": OCI_INDEX,
            "manifests": [{"mediaType": OCI_MANIFEST, "digest": img.manifest_digest,
                           "size": len(img.manifest), "platform": plat}
                          for img, plat in entries]})
        d = digest_of(raw)
        self.manifests[(repo, tag)] = (raw, OCI_INDEX)
        self.manifests[(repo, d)] = (raw, OCI_INDEX)
        return d

    # ---- server --------------------------------------------------------------
    async def start(self) -> FakeRegistry:
        app = web.Application()
        app.router.add_get("/v2/", self._base)
        app.router.add_get("/token", self._token)
        app.router.add_route("*", "/v2/{repo:.+}/manifests/{ref}", self._manifest)
        app.router.add_get("/v2/{repo:.+}/blobs/{digest}", self._blob)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.host = f"127.0.0.1:{port}"
        self.url = f"http://{self.host}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def registries(self) -> dict[str, Any]:
        """A registries.yaml document sending ``docker.io`` here (no fallback)."""
        return {"mirrors": {"docker.io": {"endpoint": [self.url]}}, "default_endpoint": False}

    def _authorized(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization", "")
        if self.auth == "401-no-challenge":
            return web.Response(status=401, text="unauthorized")
        if self.auth == "bearer":
            if header.removeprefix("Bearer ") in self._tokens:
                return None
            challenge = (f'Bearer realm="{self.url}/token",service="fake",'
                         f'scope="repository:{request.match_info.get("repo", "")}:pull"')
            return web.Response(status=401, headers={"WWW-Authenticate": challenge})
        if self.auth == "basic":
            want = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            if header == f"Basic {want}":
                return None
            return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="fake"'})
        return None

    async def _base(self, request: web.Request) -> web.StreamResponse:
        return self._authorized(request) or web.json_response({})

    async def _token(self, request: web.Request) -> web.StreamResponse:
        if self.username and request.headers.get("Authorization", "").startswith("Basic "):
            want = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            if request.headers["Authorization"] != f"Basic {want}":
                return web.Response(status=401)
        token = secrets.token_hex(8)
        self._tokens.add(token)
        return web.json_response({"token": token, "expires_in": 300})

    async def _manifest(self, request: web.Request) -> web.StreamResponse:
        denied = self._authorized(request)
        if denied:
            return denied
        repo, ref = request.match_info["repo"], request.match_info["ref"]
        self.manifest_gets[f"{repo}:{ref}"] += 1
        fault = self.faults.get(f"{repo}:{ref}", "")
        if fault == "stall":
            await asyncio.sleep(self.stall)
        found = self.manifests.get((repo, ref))
        if found is None or fault == "404":
            return web.json_response({"errors": [{"code": "MANIFEST_UNKNOWN"}]}, status=404)
        raw, mt = found
        digest = digest_of(raw)
        if fault == "wrong-digest":
            digest = "sha256:" + "0" * 64
        if fault == "corrupt":
            raw = raw.replace(b'"size":', b'"size" :', 1)
        return web.Response(body=raw, headers={"Content-Type": mt,
                                               "Docker-Content-Digest": digest})

    async def _blob(self, request: web.Request) -> web.StreamResponse:
        denied = self._authorized(request)
        if denied:
            return denied
        digest = request.match_info["digest"]
        data = self.blobs.get(digest)
        if data is None:
            return web.json_response({"errors": [{"code": "BLOB_UNKNOWN"}]}, status=404)
        self.blob_gets[digest] += 1
        fault = self.faults.get(digest, "")
        if fault == "truncate-once":
            self.faults[digest] = "truncate-then-ok"
            fault = "truncate"
        if fault == "corrupt":
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        status, start = 200, 0
        rng = request.headers.get("Range", "")
        if rng.startswith("bytes=") and rng.endswith("-"):
            status, start = 206, int(rng[6:-1])
            self.range_gets.append((digest, start))
        resp = web.StreamResponse(status=status, headers={
            "Docker-Content-Digest": digest, "Content-Type": "application/octet-stream"})
        data = data[start:]
        resp.content_length = len(data)
        await resp.prepare(request)
        half = len(data) // 2
        if fault in ("truncate", "stall"):
            await resp.write(data[:half])
            if fault == "stall":
                await asyncio.sleep(self.stall)
            if request.transport is not None:
                request.transport.close()
            return resp
        step = 64 << 10
        for i in range(0, len(data), step):
            await resp.write(data[i:i + step])
            if self.chunk_delay:
                await asyncio.sleep(self.chunk_delay)
        await resp.write_eof()
        return resp
