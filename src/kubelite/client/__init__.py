"""An asyncio client for the Kubernetes API: REST calls, informers, work queues, events.

Layer rule: imports only :mod:`kubelite.api`; the kubelet, scheduler and controllers
reach the API server through it.
"""

from kubelite.client.config import ClientConfig, load_kubeconfig
from kubelite.client.errors import ClientError, ConnectionFailed
from kubelite.client.rest import ApiClient, WatchEvent

__all__ = [
    "ApiClient",
    "ClientConfig",
    "ClientError",
    "ConnectionFailed",
    "WatchEvent",
    "load_kubeconfig",
]
