"""The kubelet's settings: a ``KubeletConfiguration`` (kubelet.config.k8s.io/v1beta1) YAML.

Contract: :func:`load_or_create` reads the file, or writes a default one first (with
``staticPodPath: /etc/kubernetes/manifests`` unless told otherwise) so that users can
edit it. Unknown fields are kept in the file and ignored here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_CONFIG_PATH = Path("/var/lib/kubelet/config.yaml")
DEFAULT_STATIC_POD_PATH = "/etc/kubernetes/manifests"
DEFAULT_CLUSTER_DNS = "10.43.0.10"  # the kube-dns address in the default service range


class ConfigError(Exception):
    """The KubeletConfiguration file is malformed."""


def _duration(value: Any, default: float) -> float:
    """Go duration text (``10s``, ``1m30s``, ``500ms``) in seconds."""
    if value is None or value == "":
        return default
    if isinstance(value, int | float):
        return float(value)
    text = str(value)
    total, num = 0.0, ""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6, "ns": 1e-9}
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isdigit() or ch == ".":
            num += ch
            i += 1
            continue
        unit = text[i:i + 2] if text[i:i + 2] in ("ms", "us", "ns") else ch
        if unit not in units or not num:
            raise ConfigError(f"invalid duration {text!r}")
        total += float(num) * units[unit]
        num = ""
        i += len(unit)
    if num:
        raise ConfigError(f"invalid duration {text!r} (missing unit)")
    return total


@dataclass
class KubeletConfig:
    static_pod_path: str = DEFAULT_STATIC_POD_PATH
    file_check_frequency: float = 0.5
    sync_frequency: float = 60.0
    node_status_update_frequency: float = 10.0
    node_lease_duration_seconds: int = 40
    max_pods: int = 110
    cluster_dns: list[str] = field(default_factory=list)
    cluster_domain: str = "cluster.local"
    resolv_conf: str = "/etc/resolv.conf"  # the host's, for dnsPolicy Default
    pod_logs_dir: str = ""  # empty: <root>/pod-logs
    port: int = 10250
    image_gc_high_threshold_percent: int = 85
    image_gc_low_threshold_percent: int = 80
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> KubeletConfig:
        if doc.get("kind", "KubeletConfiguration") != "KubeletConfiguration":
            raise ConfigError(f"expected kind KubeletConfiguration, got {doc.get('kind')!r}")
        try:
            return cls(
                static_pod_path=str(doc.get("staticPodPath") or ""),
                file_check_frequency=_duration(doc.get("fileCheckFrequency"), 0.5),
                sync_frequency=_duration(doc.get("syncFrequency"), 60.0),
                node_status_update_frequency=_duration(doc.get("nodeStatusUpdateFrequency"),
                                                       10.0),
                node_lease_duration_seconds=int(doc.get("nodeLeaseDurationSeconds") or 40),
                max_pods=int(doc.get("maxPods") or 110),
                cluster_dns=[str(x) for x in doc.get("clusterDNS") or []],
                cluster_domain=str(doc.get("clusterDomain") or "cluster.local"),
                resolv_conf=str(doc.get("resolvConf") or "/etc/resolv.conf"),
                pod_logs_dir=str(doc.get("podLogsDir") or ""),
                port=int(doc.get("port") or 10250),
                image_gc_high_threshold_percent=int(doc.get("imageGCHighThresholdPercent") or 85),
                image_gc_low_threshold_percent=int(doc.get("imageGCLowThresholdPercent") or 80),
                raw=doc,
            )
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"invalid KubeletConfiguration: {exc}") from exc


def default_document(static_pod_path: str = DEFAULT_STATIC_POD_PATH,
                     cluster_dns: str = DEFAULT_CLUSTER_DNS) -> dict[str, Any]:
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "staticPodPath": static_pod_path,
        "fileCheckFrequency": "500ms",
        "syncFrequency": "1m",
        "nodeStatusUpdateFrequency": "10s",
        "maxPods": 110,
        "clusterDNS": [cluster_dns],
        "clusterDomain": "cluster.local",
    }


def load_or_create(path: str | os.PathLike[str],
                   static_pod_path: str = DEFAULT_STATIC_POD_PATH,
                   cluster_dns: str = DEFAULT_CLUSTER_DNS) -> KubeletConfig:
    p = Path(path)
    if not p.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(yaml.safe_dump(default_document(static_pod_path, cluster_dns),
                                    sort_keys=False))
    try:
        doc = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: {exc}") from exc
    if not isinstance(doc, dict):
        raise ConfigError(f"{p}: not a KubeletConfiguration document")
    return KubeletConfig.from_dict(doc)


@dataclass(frozen=True)
class KubeletSettings:
    """What the agent knows about this node at start, beside the configuration file: each
    is given once, to the :class:`~kubelite.kubelet.kubelet.Kubelet` constructor."""

    node_name: str
    root_dir: Path
    node_ip: str
    pod_cidr: str = ""
    runtime_version: str = "runc://1"
    node_labels: dict[str, str] = field(default_factory=dict)
    logs_dir: str = ""  # empty: the config's podLogsDir, else <root_dir>/pod-logs
    use_tmpfs: bool = True  # memory-backed emptyDir volumes on tmpfs
    relist_period: float = 1.0  # PLEG
    workers: int = 16  # pod workers at once
    lease_interval: float = 10.0  # node lease renewals
    image_gc_period: float = 300.0
