"""Container image references as the docker reference grammar reads them.

Only what defaulting needs: the tag and digest of a reference, with the rules of
``ParseNormalizedNamed`` (lowercase repository paths, optional registry host and port,
``:tag``, ``@algorithm:hex``). A reference that does not parse has neither.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_LABEL = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(
    rf"^(?P<name>(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*)"
    rf"(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?$"
)
_HEX64 = re.compile(r"^[a-f0-9]{64}$")
_NAME_MAX = 255


@dataclass(frozen=True)
class ImageReference:
    """A parsed reference; ``tag`` is "latest" when neither a tag nor a digest is given."""

    name: str
    tag: str
    digest: str


def parse_image(image: str) -> ImageReference | None:
    """The parts of ``image``, or None when the reference is not valid."""
    match = _REFERENCE.match(image)
    if match is None:
        return None
    name = match.group("name")
    if len(name) > _NAME_MAX or _HEX64.match(name):
        return None
    first, slash, _ = name.partition("/")
    if slash and first != first.lower() and not any(c in first for c in ".:"):
        return None  # not a registry host, so a path component: must be lowercase
    tag = match.group("tag") or ""
    digest = match.group("digest") or ""
    if not tag and not digest:
        tag = "latest"
    return ImageReference(name, tag, digest)


def default_pull_policy(image: str) -> str:
    """``Always`` for ``:latest`` (or no tag and no digest), else ``IfNotPresent``."""
    ref = parse_image(image)
    return "Always" if ref is not None and ref.tag == "latest" else "IfNotPresent"
