"""Where the API server is and how to authenticate: from a kubeconfig or given directly."""

from __future__ import annotations

import base64
import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kubelite.client.errors import ConfigError


@dataclass(frozen=True)
class ClientConfig:
    """A base URL (``https://host:port``), TLS settings and an optional bearer token."""

    base_url: str
    ssl_context: ssl.SSLContext | None = None
    token: str | None = None


def _data(entry: dict[str, Any], key: str, base: Path) -> bytes | None:
    if entry.get(key + "-data"):
        return base64.b64decode(entry[key + "-data"])
    if entry.get(key):
        path = Path(entry[key])
        if not path.is_absolute():
            path = base / path
        return path.read_bytes()
    return None


def load_kubeconfig(path: str | os.PathLike[str], context: str | None = None) -> ClientConfig:
    """The cluster, user and context of a kubeconfig (current context by default).

    Supports certificate-authority(-data), client-certificate/key(-data), token and
    insecure-skip-tls-verify.
    """
    p = Path(path)
    try:
        doc = yaml.safe_load(p.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read kubeconfig {p}: {exc}") from exc
    name = context or doc.get("current-context")
    contexts = {c["name"]: c.get("context") or {} for c in doc.get("contexts") or []}
    clusters = {c["name"]: c.get("cluster") or {} for c in doc.get("clusters") or []}
    users = {u["name"]: u.get("user") or {} for u in doc.get("users") or []}
    if name not in contexts:
        raise ConfigError(f'context "{name}" not found in {p}')
    ctx = contexts[name]
    cluster = clusters.get(ctx.get("cluster", ""))
    if cluster is None or not cluster.get("server"):
        raise ConfigError(f"kubeconfig {p}: context {name!r} has no cluster server")
    user = users.get(ctx.get("user", ""), {})
    server = str(cluster["server"]).rstrip("/")
    sslctx: ssl.SSLContext | None = None
    if server.startswith("https://"):
        ca = _data(cluster, "certificate-authority", p.parent)
        sslctx = ssl.create_default_context(cadata=ca.decode() if ca else None)
        if cluster.get("insecure-skip-tls-verify"):
            sslctx.check_hostname = False
            sslctx.verify_mode = ssl.CERT_NONE
        cert = _data(user, "client-certificate", p.parent)
        key = _data(user, "client-key", p.parent)
        if cert and key:
            with tempfile.TemporaryDirectory() as d:
                cf, kf = Path(d) / "c.crt", Path(d) / "c.key"
                cf.write_bytes(cert)
                kf.write_bytes(key)
                sslctx.load_cert_chain(cf, kf)
    return ClientConfig(server, sslctx, user.get("token") or None)


def token_config(base_url: str, token: str, ca_file: str | None = None,
                 insecure: bool = False) -> ClientConfig:
    """A config for a bearer token (how ``kubelite agent --server --token`` joins)."""
    sslctx: ssl.SSLContext | None = None
    if base_url.startswith("https://"):
        sslctx = ssl.create_default_context(cafile=ca_file)
        if insecure:
            sslctx.check_hostname = False
            sslctx.verify_mode = ssl.CERT_NONE
    return ClientConfig(base_url.rstrip("/"), sslctx, token)
