"""An in-memory pod network for tests: hands out IPs from a subnet, no kernel objects.

Satisfies ``kubelite.runtime.protocol.PodNetwork``. Namespace paths are fictitious
(``/fake/netns/<id>``), so it suits the fake runtime, not runc.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence

from kubelite.network.errors import NetworkError


class FakeNetwork:
    def __init__(self, subnet: str = "10.244.0.0/16") -> None:
        self._hosts = ipaddress.ip_network(subnet).hosts()
        next(self._hosts)  # the gateway
        self.namespaces: set[str] = set()
        self.attached: dict[str, str] = {}  # sandbox id -> IP
        self.port_mappings: dict[str, list[dict[str, object]]] = {}
        self._free: list[str] = []
        self.fail_setup: str | None = None  # set to an error message to make setup fail

    async def create_namespace(self, sandbox_id: str) -> str:
        self.namespaces.add(sandbox_id)
        return f"/fake/netns/{sandbox_id}"

    async def remove_namespace(self, sandbox_id: str) -> None:
        self.namespaces.discard(sandbox_id)

    async def setup(
        self,
        sandbox_id: str,
        netns_path: str,
        *,
        pod_namespace: str,
        pod_name: str,
        pod_uid: str,
        port_mappings: Sequence[Mapping[str, object]] = (),
    ) -> str:
        if self.fail_setup:
            raise NetworkError(self.fail_setup)
        if sandbox_id not in self.attached:
            try:
                ip = self._free.pop(0) if self._free else str(next(self._hosts))
            except StopIteration:
                raise NetworkError("no IP addresses left in the pod subnet") from None
            self.attached[sandbox_id] = ip
        self.port_mappings[sandbox_id] = [dict(p) for p in port_mappings]
        return self.attached[sandbox_id]

    async def teardown(
        self,
        sandbox_id: str,
        netns_path: str,
        *,
        pod_namespace: str,
        pod_name: str,
        pod_uid: str,
        port_mappings: Sequence[Mapping[str, object]] = (),
    ) -> None:
        ip = self.attached.pop(sandbox_id, None)
        self.port_mappings.pop(sandbox_id, None)
        if ip is not None:
            self._free.append(ip)
