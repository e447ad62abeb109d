"""Pod networking: network namespaces and CNI plugins (and an in-memory fake)."""

from kubelite.network.cni import BridgeNetworkConfig, CniNetwork
from kubelite.network.errors import CniError, NamespaceError, NetworkError
from kubelite.network.fake import FakeNetwork

__all__ = [
    "BridgeNetworkConfig",
    "CniError",
    "CniNetwork",
    "FakeNetwork",
    "NamespaceError",
    "NetworkError",
]
