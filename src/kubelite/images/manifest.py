"""OCI and Docker schema 2 manifests, indexes and image configs, typed.

Only what pulling, unpacking and running need is modelled; the raw bytes stay the source of
truth (their digest is the identity).
"""

from __future__ import annotations

import platform as _platform
from dataclasses import dataclass, field
from typing import Any

import orjson

from kubelite.images.errors import UnsupportedImage
from kubelite.images.reference import validate_digest

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_LAYER_FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
DOCKER_SCHEMA1 = (
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)

MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
ACCEPT = ", ".join((*INDEX_TYPES, *MANIFEST_TYPES))
LAYER_TYPES = frozenset(
    {DOCKER_LAYER_GZIP, DOCKER_LAYER_FOREIGN, OCI_LAYER, OCI_LAYER_GZIP, OCI_LAYER_ZSTD,
     "application/vnd.docker.image.rootfs.diff.tar",
     "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"}
)


@dataclass(frozen=True, slots=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    platform: dict[str, Any] | None = None
    annotations: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, d: Any) -> Descriptor:
        if not isinstance(d, dict):
            raise UnsupportedImage("malformed descriptor in manifest")
        try:
            digest = validate_digest(str(d["digest"]))
            size = int(d["size"])
        except (KeyError, TypeError, ValueError) as exc:
            raise UnsupportedImage(f"malformed descriptor in manifest: {exc}") from exc
        if size < 0:
            raise UnsupportedImage(f"negative size for {digest}")
        return cls(str(d.get("mediaType", "")), digest, size, d.get("platform"),
                   dict(d.get("annotations") or {}))


def sniff_media_type(raw: bytes, header: str | None = None) -> str:
    """The media type of a manifest document: its own field, else the HTTP header."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise UnsupportedImage(f"manifest is not JSON: {exc}") from exc
    mt = doc.get("mediaType") if isinstance(doc, dict) else None
    if isinstance(mt, str) and mt:
        return mt
    if header:
        return header.split(";")[0].strip()
    if isinstance(doc, dict) and "manifests" in doc:
        return OCI_INDEX
    if isinstance(doc, dict) and "layers" in doc:
        return OCI_MANIFEST
    raise UnsupportedImage("cannot tell the manifest's media type")


@dataclass(frozen=True, slots=True)
class Manifest:
    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]

    @classmethod
    def parse(cls, raw: bytes, media_type: str) -> Manifest:
        if media_type in DOCKER_SCHEMA1:
            raise UnsupportedImage(
                "Docker Image manifest version 2, schema 1 is no longer supported; "
                "push the image again with a newer client"
            )
        if media_type not in MANIFEST_TYPES:
            raise UnsupportedImage(f"unsupported manifest media type {media_type!r}")
        doc = orjson.loads(raw)
        layers = tuple(Descriptor.from_json(x) for x in doc.get("layers") or ())
        for layer in layers:
            if layer.media_type and layer.media_type not in LAYER_TYPES:
                raise UnsupportedImage(f"unsupported layer media type {layer.media_type!r}")
        return cls(media_type, Descriptor.from_json(doc.get("config")), layers)


def host_platform() -> tuple[str, str, str | None]:
    """(os, architecture, variant) of this machine in OCI terms."""
    m = _platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
            "i386": "386", "i686": "386", "ppc64le": "ppc64le", "s390x": "s390x",
            "riscv64": "riscv64"}.get(m, m)
    variant: str | None = None
    if arch == "arm64":
        variant = "v8"
    elif m.startswith("armv") and len(m) > 4:
        arch, variant = "arm", f"v{m[4]}"
    return "linux", arch, variant


def select_platform(raw: bytes, want: tuple[str, str, str | None] | None = None) -> Descriptor:
    """Pick this platform's manifest from an index, as containerd's default matcher does."""
    os_, arch, variant = want or host_platform()
    doc = orjson.loads(raw)
    entries = [Descriptor.from_json(x) for x in doc.get("manifests") or ()]
    best: Descriptor | None = None
    best_score = -1
    for e in entries:
        p = e.platform or {}
        if p.get("os") != os_ or p.get("architecture") != arch:
            continue
        v = p.get("variant")
        # exact variant first, then no variant, then any other (older variants of arm)
        score = 2 if v == variant else 1 if not v else 0
        if arch == "arm64" and v in (None, "", "v8"):
            score = 2
        if score > best_score:
            best, best_score = e, score
    if best is None:
        seen = sorted({f"{(e.platform or {}).get('os')}/{(e.platform or {}).get('architecture')}"
                       for e in entries})
        raise UnsupportedImage(
            f"no matching manifest for {os_}/{arch} in the manifest list entries "
            f"(available: {', '.join(seen) or 'none'})"
        )
    return best


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """What the runtime needs from an image config (``config`` of the OCI image spec)."""

    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    working_dir: str = ""
    user: str = ""
    exposed_ports: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    stop_signal: str = ""
    volumes: tuple[str, ...] = ()
    os: str = "linux"
    architecture: str = ""
    diff_ids: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: bytes) -> ImageConfig:
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise UnsupportedImage(f"image config is not JSON: {exc}") from exc
        c = doc.get("config") or {}
        rootfs = doc.get("rootfs") or {}
        diff_ids = tuple(validate_digest(str(d)) for d in rootfs.get("diff_ids") or ())
        return cls(
            entrypoint=tuple(c.get("Entrypoint") or ()),
            cmd=tuple(c.get("Cmd") or ()),
            env=tuple(c.get("Env") or ()),
            working_dir=str(c.get("WorkingDir") or ""),
            user=str(c.get("User") or ""),
            exposed_ports=tuple(sorted((c.get("ExposedPorts") or {}).keys())),
            labels={str(k): str(v) for k, v in (c.get("Labels") or {}).items()},
            stop_signal=str(c.get("StopSignal") or ""),
            volumes=tuple(sorted((c.get("Volumes") or {}).keys())),
            os=str(doc.get("os") or "linux"),
            architecture=str(doc.get("architecture") or ""),
            diff_ids=diff_ids,
        )
