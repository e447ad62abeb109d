"""Image references, parsed and normalised as Docker and containerd do.

``nginx`` -> ``docker.io/library/nginx:latest``; ``localhost:5000/a/b@sha256:...`` keeps its
registry and digest. A reference with neither tag nor digest gets the tag ``latest``; a
reference with a digest is pulled by that digest (its tag, if any, is only a name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kubelite.images.errors import InvalidReference

DEFAULT_REGISTRY = "docker.io"
LEGACY_REGISTRIES = frozenset({"index.docker.io", "registry-1.docker.io"})
OFFICIAL_PREFIX = "library/"
DEFAULT_TAG = "latest"

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}")
_SHA256 = re.compile(r"sha256:[a-f0-9]{64}")
_HOST = re.compile(
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
    r"|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
)
MAX_NAME = 255


@dataclass(frozen=True, slots=True)
class Reference:
    """A normalised image reference. ``tag`` and ``digest`` may both be set."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """``registry/repository`` without tag or digest."""
        return f"{self.registry}/{self.repository}"

    @property
    def object(self) -> str:
        """What to ask the registry for: the digest if there is one, else the tag."""
        return self.digest or self.tag or DEFAULT_TAG

    def __str__(self) -> str:
        s = self.name
        if self.tag:
            s += f":{self.tag}"
        if self.digest:
            s += f"@{self.digest}"
        return s


def validate_digest(digest: str) -> str:
    """Return ``digest`` if it is a well-formed content digest (sha256 only), else raise."""
    if not _DIGEST.fullmatch(digest):
        raise InvalidReference(f"invalid digest {digest!r}")
    if not _SHA256.fullmatch(digest):
        raise InvalidReference(f"unsupported digest algorithm in {digest!r} (only sha256)")
    return digest


def parse(text: str) -> Reference:
    """Parse and normalise an image reference; raise :class:`InvalidReference` if malformed."""
    original = text
    if not text or text != text.strip():
        raise InvalidReference(f"invalid reference format: {original!r}")
    digest: str | None = None
    if "@" in text:
        text, digest = text.split("@", 1)
        validate_digest(digest)
    tag: str | None = None
    slash = text.rfind("/")
    colon = text.rfind(":")
    if colon > slash:
        text, tag = text[:colon], text[colon + 1 :]
        if not _TAG.fullmatch(tag):
            raise InvalidReference(f"invalid reference format: bad tag {tag!r} in {original!r}")
    registry, _, path = text.partition("/")
    if not path or not _looks_like_host(registry):
        registry, path = DEFAULT_REGISTRY, text
    if registry in LEGACY_REGISTRIES:
        registry = DEFAULT_REGISTRY
    if not _HOST.fullmatch(registry):
        raise InvalidReference(f"invalid reference format: bad registry {registry!r}")
    if registry == DEFAULT_REGISTRY and "/" not in path:
        path = OFFICIAL_PREFIX + path
    if path != path.lower():
        raise InvalidReference(
            f"invalid reference format: repository name must be lowercase: {original!r}"
        )
    if not all(_COMPONENT.fullmatch(c) for c in path.split("/")):
        raise InvalidReference(f"invalid reference format: {original!r}")
    if len(f"{registry}/{path}") > MAX_NAME:
        raise InvalidReference(f"repository name must not be more than {MAX_NAME} characters")
    if tag is None and digest is None:
        tag = DEFAULT_TAG
    return Reference(registry, path, tag, digest)


def _looks_like_host(part: str) -> bool:
    # Docker's rule: the first component is a registry if it has a dot or a port, is
    # "localhost", or has upper case letters (repositories never do).
    return "." in part or ":" in part or part == "localhost" or part != part.lower()


def familiar(ref: Reference) -> str:
    """The short form Docker prints: ``nginx:latest`` for ``docker.io/library/nginx:latest``."""
    s = str(ref)
    if ref.registry == DEFAULT_REGISTRY:
        s = s[len(DEFAULT_REGISTRY) + 1 :]
        if s.startswith(OFFICIAL_PREFIX):
            s = s[len(OFFICIAL_PREFIX) :]
    return s
