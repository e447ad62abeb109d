"""Pod networking with CNI plugins: loopback + bridge/host-local + portmap.

:class:`CniNetwork` satisfies ``kubelite.runtime.protocol.PodNetwork`` structurally.
It executes the plugin binaries itself (CNI spec 1.0: JSON config on stdin, ``CNI_*``
environment, result or error JSON on stdout) and keeps each ADD result in its state
directory so that DEL gets ``prevResult`` and a later process can tear down what an
earlier one set up. The network's own settings (subnet, bridge, netns prefix) are kept
there too (``network.json``), so that ``kubelite killall`` removes exactly this network's
bridge and namespaces, whatever flags the server ran with.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from kubelite.network import netns
from kubelite.network.errors import CniError, NetworkError
from kubelite.network.proc import run

CNI_VERSION = "1.0.0"
DEFAULT_PLUGIN_DIRS = ("/usr/lib/cni", "/opt/cni/bin")
SETTINGS_FILE = "network.json"


@dataclass(frozen=True)
class BridgeNetworkConfig:
    """The pod network of one node."""

    subnet: str = "10.88.0.0/16"
    bridge: str = "kubelite0"
    name: str = "kubelite"
    mtu: int = 1500
    hairpin_mode: bool = True
    ip_masq: bool = True
    netns_prefix: str = "kubelite-"

    @classmethod
    def recorded(cls, state_dir: str) -> BridgeNetworkConfig | None:
        """The settings a :class:`CniNetwork` over ``state_dir`` last ran with, if any."""
        try:
            with open(os.path.join(state_dir, SETTINGS_FILE)) as f:
                doc = json.load(f)
        except (OSError, ValueError):
            return None
        known = {f.name for f in fields(cls)}
        if not isinstance(doc, dict):
            return None
        return cls(**{k: v for k, v in doc.items() if k in known})

    def record(self, state_dir: str) -> None:
        path = os.path.join(state_dir, SETTINGS_FILE)
        with open(path + ".tmp", "w") as f:
            json.dump(asdict(self), f)
        os.replace(path + ".tmp", path)

    def conflist(self, ipam_dir: str) -> dict[str, Any]:
        net = ipaddress.ip_network(self.subnet)
        return {
            "cniVersion": CNI_VERSION,
            "name": self.name,
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": self.bridge,
                    "isGateway": True,
                    "ipMasq": self.ip_masq,
                    "hairpinMode": self.hairpin_mode,
                    "mtu": self.mtu,
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{"subnet": str(net)}]],
                        "routes": [{"dst": "0.0.0.0/0" if net.version == 4 else "::/0"}],
                        "dataDir": ipam_dir,
                    },
                },
                {"type": "portmap", "capabilities": {"portMappings": True}, "snat": True},
            ],
        }


def find_plugin_dir(dirs: Sequence[str] = DEFAULT_PLUGIN_DIRS) -> str:
    for d in dirs:
        if os.path.exists(os.path.join(d, "bridge")):
            return d
    raise NetworkError(f"CNI plugins not found in {', '.join(dirs)}")


class CniNetwork:
    """Pod network namespaces attached to one bridge.

    State (``state_dir``): ``ipam/`` (host-local leases), ``results/<sandbox id>.json``
    (the ADD result and the arguments needed for DEL), ``network.json`` (its config).
    """

    def __init__(
        self,
        state_dir: str,
        config: BridgeNetworkConfig | None = None,
        plugin_dir: str | None = None,
    ) -> None:
        self.state_dir = state_dir
        self.config = config or BridgeNetworkConfig()
        self.plugin_dir = plugin_dir or find_plugin_dir()
        self._results = os.path.join(state_dir, "results")
        self._ipam = os.path.join(state_dir, "ipam")
        os.makedirs(self._results, exist_ok=True)
        os.makedirs(self._ipam, exist_ok=True)
        self.config.record(state_dir)

    # ------------------------------------------------------------ namespaces

    async def create_namespace(self, sandbox_id: str) -> str:
        return await netns.create(netns.netns_name(self.config.netns_prefix, sandbox_id))

    async def remove_namespace(self, sandbox_id: str) -> None:
        await netns.delete(netns.netns_name(self.config.netns_prefix, sandbox_id))

    # ------------------------------------------------------------ ADD / DEL

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
        previous = self._read_record(sandbox_id)
        if previous is not None:  # a retried ADD: release what the last one took
            await self._delete(sandbox_id, previous)
        args = _cni_args(sandbox_id, pod_namespace, pod_name, pod_uid)
        record: dict[str, Any] = {
            "netns": netns_path,
            "args": args,
            "portMappings": [dict(p) for p in port_mappings],
        }
        # Recorded before ADD so that a crash in between still allows a DEL.
        self._write_record(sandbox_id, record)
        await self._invoke(
            "ADD", _loopback_conf(), sandbox_id, netns_path, "lo", args
        )
        result: dict[str, Any] | None = None
        conflist = self.config.conflist(self._ipam)
        for plugin in conflist["plugins"]:
            conf = self._plugin_conf(conflist, plugin, record["portMappings"], result)
            if conf is None:
                continue
            result = await self._invoke("ADD", conf, sandbox_id, netns_path, "eth0", args)
        record["result"] = result
        self._write_record(sandbox_id, record)
        ip = pod_ip(result or {})
        if not ip:
            raise NetworkError(f"CNI ADD for {sandbox_id[:12]} returned no IP address")
        return ip

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
        record = self._read_record(sandbox_id)
        if record is None:
            record = {
                "netns": netns_path,
                "args": _cni_args(sandbox_id, pod_namespace, pod_name, pod_uid),
                "portMappings": [dict(p) for p in port_mappings],
            }
        await self._delete(sandbox_id, record)

    async def _delete(self, sandbox_id: str, record: Mapping[str, Any]) -> None:
        path = str(record.get("netns") or "")
        ns = path if path and _exists(path) else ""
        conflist = self.config.conflist(self._ipam)
        prev = record.get("result")
        for plugin in reversed(conflist["plugins"]):
            conf = self._plugin_conf(conflist, plugin, record.get("portMappings", []), prev)
            if conf is None:
                continue
            await self._invoke("DEL", conf, sandbox_id, ns, "eth0", str(record["args"]))
        try:
            os.unlink(self._record_path(sandbox_id))
        except FileNotFoundError:
            pass

    async def teardown_all(self) -> None:
        """DEL every recorded attachment, then delete the bridge (for killall)."""
        for name in sorted(os.listdir(self._results)):
            sandbox_id = name.removesuffix(".json")
            record = self._read_record(sandbox_id)
            if record is not None:
                try:
                    await self._delete(sandbox_id, record)
                except NetworkError:
                    pass
        for name in netns.list_names(self.config.netns_prefix):
            await netns.delete(name)
        await run(["ip", "link", "delete", self.config.bridge])
        shutil.rmtree(self._ipam, ignore_errors=True)
        os.makedirs(self._ipam, exist_ok=True)

    # ------------------------------------------------------------ plumbing

    def _plugin_conf(
        self,
        conflist: Mapping[str, Any],
        plugin: Mapping[str, Any],
        port_mappings: Sequence[Mapping[str, object]],
        prev: Mapping[str, Any] | None,
    ) -> dict[str, Any] | None:
        conf = dict(plugin)
        conf["cniVersion"] = conflist["cniVersion"]
        conf["name"] = conflist["name"]
        caps = conf.pop("capabilities", {})
        if caps.get("portMappings"):
            if not port_mappings:
                return None  # nothing to map: skip portmap entirely
            conf["runtimeConfig"] = {"portMappings": list(port_mappings)}
        if prev is not None:
            conf["prevResult"] = prev
        return conf

    async def _invoke(
        self,
        command: str,
        conf: Mapping[str, Any],
        container_id: str,
        netns_path: str,
        ifname: str,
        args: str,
    ) -> dict[str, Any] | None:
        plugin = str(conf["type"])
        env = {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "CNI_COMMAND": command,
            "CNI_CONTAINERID": container_id,
            "CNI_NETNS": netns_path,
            "CNI_IFNAME": ifname,
            "CNI_ARGS": args,
            "CNI_PATH": self.plugin_dir,
        }
        code, out, err = await run(
            [os.path.join(self.plugin_dir, plugin)], stdin=json.dumps(conf).encode(), env=env
        )
        if code != 0:
            try:
                doc = json.loads(out or err)
                raise CniError(
                    plugin, command, int(doc.get("code", code)), str(doc.get("msg", "")),
                    str(doc.get("details", "")),
                )
            except (ValueError, AttributeError):
                text = (out + err).decode(errors="replace").strip()
                raise CniError(plugin, command, code, text) from None
        if command != "ADD" or not out.strip():
            return None
        parsed: dict[str, Any] = json.loads(out)
        return parsed

    def _record_path(self, sandbox_id: str) -> str:
        return os.path.join(self._results, f"{sandbox_id}.json")

    def _write_record(self, sandbox_id: str, record: Mapping[str, Any]) -> None:
        tmp = self._record_path(sandbox_id) + ".tmp"
        with open(tmp, "w") as f:
            json.dump(record, f)
        os.replace(tmp, self._record_path(sandbox_id))

    def _read_record(self, sandbox_id: str) -> dict[str, Any] | None:
        try:
            with open(self._record_path(sandbox_id)) as f:
                record: dict[str, Any] = json.load(f)
                return record
        except (FileNotFoundError, ValueError):
            return None


def _exists(path: str) -> bool:
    return os.path.exists(path)


def _cni_args(sandbox_id: str, namespace: str, name: str, uid: str) -> str:
    return (
        f"IgnoreUnknown=1;K8S_POD_NAMESPACE={namespace};K8S_POD_NAME={name};"
        f"K8S_POD_INFRA_CONTAINER_ID={sandbox_id};K8S_POD_UID={uid}"
    )


def _loopback_conf() -> dict[str, Any]:
    return {"cniVersion": CNI_VERSION, "name": "cni-loopback", "type": "loopback"}


def pod_ip(result: Mapping[str, Any]) -> str:
    """The first address of the result's container interface, without prefix length."""
    ifaces = result.get("interfaces") or []
    for ip in result.get("ips") or []:
        idx = ip.get("interface")
        if idx is not None and idx < len(ifaces) and not ifaces[idx].get("sandbox"):
            continue  # the host side (bridge) address
        return str(ip["address"]).split("/")[0]
    return ""
