"""Registry settings in k3s' ``registries.yaml`` format.

```yaml
mirrors:
  docker.io:
    endpoint: ["http://127.0.0.1:5000", "https://mirror.example"]
    rewrite: {"^library/(.*)": "mirror/$1"}
  "*": {endpoint: [...]}
configs:
  "127.0.0.1:5000":
    auth: {username: u, password: p}        # or auth: base64(u:p), or identitytoken
    tls: {insecure_skip_verify: true, ca_file: /x.pem, cert_file: c, key_file: k}
```

Contract: the endpoints for a registry are its mirrors in order, then the registry itself
(``registry-1.docker.io`` for ``docker.io``) unless the default endpoint is disabled.
A rewrite applies to the repository path at the mirror endpoints only. Settings in
``configs`` are looked up by the endpoint's ``host[:port]``, then by the registry name.
"""

from __future__ import annotations

import base64
import functools
import re
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from kubelite.images.errors import ConfigError

DOCKER_HUB_ENDPOINT = "https://registry-1.docker.io"


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str = ""
    password: str = ""
    identity_token: str = ""

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Credentials | None:
        user, pw = str(d.get("username") or ""), str(d.get("password") or "")
        if d.get("auth") and not user:
            try:
                user, _, pw = base64.b64decode(str(d["auth"])).decode().partition(":")
            except (ValueError, UnicodeDecodeError) as exc:
                raise ConfigError(f"registries.yaml: auth is not base64 user:password: {exc}"
                                  ) from exc
        token = str(d.get("identitytoken") or d.get("identity_token") or "")
        if not (user or token):
            return None
        return cls(user, pw, token)


@dataclass(frozen=True, slots=True)
class TLSConfig:
    insecure_skip_verify: bool = False
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One place to pull a registry's content from."""

    url: str  # scheme://host[:port], no trailing slash, no /v2
    is_mirror: bool
    rewrites: tuple[tuple[re.Pattern[str], str], ...] = ()
    credentials: Credentials | None = None
    tls: TLSConfig = field(default_factory=TLSConfig)

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc

    def repository(self, repo: str) -> str:
        """The repository path to ask this endpoint for (rewrites applied)."""
        for pattern, repl in self.rewrites:
            if pattern.search(repo):
                return pattern.sub(repl, repo, count=1)
        return repo

    def ssl_context(self) -> ssl.SSLContext | bool:
        """What aiohttp's ``ssl=`` wants: True for default verification, else a context."""
        if not self.url.startswith("https://"):
            return True
        t = self.tls
        if not (t.insecure_skip_verify or t.ca_file or t.cert_file):
            return True
        return _ssl_context(t)


@functools.lru_cache(maxsize=32)
def _ssl_context(t: TLSConfig) -> ssl.SSLContext:
    try:
        ctx = ssl.create_default_context(cafile=t.ca_file or None)
        if t.insecure_skip_verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if t.cert_file:
            ctx.load_cert_chain(t.cert_file, t.key_file or None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"registries.yaml tls settings {t}: {exc}") from exc
    return ctx


def _go_repl(repl: str) -> str:
    # Go regexp replacements use $1 / ${1}; Python wants \g<1>.
    return re.sub(r"\$\{?(\w+)\}?", r"\\g<\1>", repl)


def _normalize_url(text: str) -> str:
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"registries.yaml: bad endpoint {text!r}")
    path = parts.path.rstrip("/")
    if path.endswith("/v2"):
        path = path[:-3]
    return f"{parts.scheme}://{parts.netloc}{path}"


def _is_loopback(host: str) -> bool:
    h = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1:].split("]")[0]
    return h in ("localhost", "::1") or h.startswith("127.")


@dataclass(frozen=True, slots=True)
class _Mirror:
    endpoints: tuple[str, ...]
    rewrites: tuple[tuple[re.Pattern[str], str], ...]


@dataclass(frozen=True, slots=True)
class RegistryConfig:
    """Parsed ``registries.yaml``; the empty config means "pull from the registry itself"."""

    mirrors: dict[str, _Mirror] = field(default_factory=dict)
    configs: dict[str, tuple[Credentials | None, TLSConfig]] = field(default_factory=dict)
    default_endpoint: bool = True

    @classmethod
    def load(cls, path: str | Path | None) -> RegistryConfig:
        """Read a file; a missing file is the empty config, a malformed one raises."""
        if path is None or not Path(path).exists():
            return cls()
        try:
            doc = yaml.safe_load(Path(path).read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: {exc}") from exc
        return cls.from_dict(doc, source=str(path))

    @classmethod
    def from_dict(cls, doc: Any, source: str = "registries.yaml") -> RegistryConfig:
        if not isinstance(doc, dict):
            raise ConfigError(f"{source}: expected a mapping at the top level")
        mirrors: dict[str, _Mirror] = {}
        for name, m in (doc.get("mirrors") or {}).items():
            m = m or {}
            eps = m.get("endpoint") or m.get("endpoints") or []
            if isinstance(eps, str):
                eps = [eps]
            try:
                rewrites = tuple((re.compile(str(k)), _go_repl(str(v)))
                                 for k, v in (m.get("rewrite") or {}).items())
            except re.error as exc:
                raise ConfigError(f"{source}: bad rewrite for {name}: {exc}") from exc
            mirrors[str(name)] = _Mirror(tuple(_normalize_url(str(e)) for e in eps), rewrites)
        configs: dict[str, tuple[Credentials | None, TLSConfig]] = {}
        for name, c in (doc.get("configs") or {}).items():
            c = c or {}
            t = c.get("tls") or {}
            tls = TLSConfig(bool(t.get("insecure_skip_verify")), str(t.get("ca_file") or ""),
                            str(t.get("cert_file") or ""), str(t.get("key_file") or ""))
            key = str(name)
            if "://" in key:
                key = urlsplit(key).netloc
            configs[key] = (Credentials.from_json(c.get("auth") or {}), tls)
        return cls(mirrors, configs, bool(doc.get("default_endpoint", True)))

    def endpoints(self, registry: str) -> list[Endpoint]:
        """Where to look for ``registry``'s content, in order."""
        mirror = self.mirrors.get(registry) or self.mirrors.get("*")
        out: list[Endpoint] = []
        for url in mirror.endpoints if mirror else ():
            out.append(self._endpoint(url, registry, True, mirror.rewrites if mirror else ()))
        if self.default_endpoint or not out:
            if registry == "docker.io":
                url = DOCKER_HUB_ENDPOINT
            else:
                url = ("http://" if _is_loopback(registry) else "https://") + registry
            if all(e.url != url for e in out):
                out.append(self._endpoint(url, registry, False, ()))
        return out

    def _endpoint(self, url: str, registry: str, is_mirror: bool,
                  rewrites: tuple[tuple[re.Pattern[str], str], ...]) -> Endpoint:
        host = urlsplit(url).netloc
        creds, tls = self.configs.get(host) or self.configs.get(registry) or (None, TLSConfig())
        return Endpoint(url, is_mirror, rewrites, creds, tls)
