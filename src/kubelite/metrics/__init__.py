"""Prometheus metrics shared by every component: registries, exposition, runtime collectors.

Each server (API server, kubelet) owns one :class:`prometheus_client.CollectorRegistry`
made by :func:`new_registry`; nothing registers in prometheus_client's global default
registry, so two servers in one process never mix their series.
"""

from kubelite.metrics.registry import CONTENT_TYPE, new_registry, render

__all__ = ["CONTENT_TYPE", "new_registry", "render"]
