"""Pod volumes on the host: emptyDir (disk or tmpfs), hostPath, configMap, secret,
downwardAPI and projected, under ``<root>/pods/<uid>/volumes/<plugin>/<name>``;
persistentVolumeClaim volumes are their bound PV's host directory
(:mod:`kubelite.kubelet.claim_volumes`), and the pod waits while a claim is unbound.

Contract: :meth:`VolumeManager.setup` is idempotent and returns each volume's host
path; file-backed volumes are rewritten when their source changed. Failures raise
:class:`VolumeError` with Kubernetes' FailedMount text. :meth:`teardown` unmounts and
removes everything of a pod. Blocking work runs in threads.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from kubelite.api.quantity import value as qvalue
from kubelite.kubelet.claim_volumes import ClaimsNotReady, claim_paths
from kubelite.kubelet.envvars import ContainerConfigError, ObjectGetter, field_ref
from kubelite.kubelet.podspec import JSON, meta, spec


class VolumeError(Exception):
    """A volume could not be set up (event FailedMount)."""


PLUGIN_DIRS = {
    "emptyDir": "kubernetes.io~empty-dir", "hostPath": "kubernetes.io~host-path",
    "configMap": "kubernetes.io~configmap", "secret": "kubernetes.io~secret",
    "downwardAPI": "kubernetes.io~downward-api", "projected": "kubernetes.io~projected",
}


def _decode(obj: JSON, kind: str) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    if kind == "Secret":
        for k, v in (obj.get("data") or {}).items():
            out[k] = base64.b64decode(v)
        for k, v in (obj.get("stringData") or {}).items():
            out[k] = str(v).encode()
    else:
        for k, v in (obj.get("data") or {}).items():
            out[k] = str(v).encode()
        for k, v in (obj.get("binaryData") or {}).items():
            out[k] = base64.b64decode(v)
    return out


def _write_files(target: Path, files: Mapping[str, tuple[bytes, int]]) -> None:
    target.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for rel, (data, mode) in files.items():
        p = target / rel
        wanted.add(p)
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.exists() and p.read_bytes() == data and (p.stat().st_mode & 0o777) == mode:
            continue
        tmp = p.with_name("." + p.name + ".tmp")
        tmp.write_bytes(data)
        os.chmod(tmp, mode)
        tmp.replace(p)
    for p in list(target.rglob("*")):
        if p.is_file() and p not in wanted:
            p.unlink()


class VolumeManager:
    def __init__(self, root: str | os.PathLike[str], get: ObjectGetter, *,
                 use_tmpfs: bool = True) -> None:
        self.root = Path(root)
        self.get = get
        self.use_tmpfs = use_tmpfs

    def pod_dir(self, uid: str) -> Path:
        return self.root / "pods" / uid

    async def setup(self, pod: JSON, host_ip: str = "", pod_ip: str = "") -> dict[str, str]:
        uid = str(meta(pod).get("uid"))
        try:
            paths: dict[str, str] = await claim_paths(pod, self.get)
        except ClaimsNotReady as exc:
            raise VolumeError(str(exc)) from exc
        for vol in spec(pod).get("volumes") or []:
            if "persistentVolumeClaim" in vol:
                continue
            name = str(vol.get("name"))
            try:
                paths[name] = await self._one(pod, uid, vol, host_ip, pod_ip)
            except (VolumeError, ContainerConfigError) as exc:
                raise VolumeError(f'MountVolume.SetUp failed for volume "{name}" : {exc}'
                                  ) from exc
            except OSError as exc:
                raise VolumeError(f'MountVolume.SetUp failed for volume "{name}" : {exc}'
                                  ) from exc
        return paths

    async def _one(self, pod: JSON, uid: str, vol: JSON, host_ip: str, pod_ip: str) -> str:
        name = str(vol["name"])
        ns = str(meta(pod).get("namespace") or "default")
        for plugin, sub in PLUGIN_DIRS.items():
            if plugin in vol:
                target = self.pod_dir(uid) / "volumes" / sub / name
                break
        else:
            raise VolumeError("unsupported volume type")
        if "hostPath" in vol:
            hp = vol["hostPath"]
            path = Path(str(hp.get("path")))
            kind = str(hp.get("type") or "")
            await asyncio.to_thread(_host_path, path, kind)
            return str(path)
        if "emptyDir" in vol:
            ed = vol["emptyDir"] or {}
            memory = ed.get("medium") == "Memory"
            size = ed.get("sizeLimit")
            await asyncio.to_thread(self._empty_dir, target, memory and self.use_tmpfs,
                                    qvalue(str(size)) if size else None)
            return str(target)
        files: dict[str, tuple[bytes, int]] = {}
        if "configMap" in vol or "secret" in vol:
            kind = "ConfigMap" if "configMap" in vol else "Secret"
            src = vol["configMap"] if kind == "ConfigMap" else vol["secret"]
            obj_name = str(src.get("name") if kind == "ConfigMap" else src.get("secretName"))
            await self._add_object(files, kind, ns, obj_name, src,
                                   int(src.get("defaultMode", 0o644)))
        elif "downwardAPI" in vol:
            src = vol["downwardAPI"]
            self._add_downward(files, pod, src.get("items") or [],
                               int(src.get("defaultMode", 0o644)), host_ip, pod_ip)
        elif "projected" in vol:
            src = vol["projected"] or {}
            mode = int(src.get("defaultMode", 0o644))
            for s in src.get("sources") or []:
                if "configMap" in s:
                    await self._add_object(files, "ConfigMap", ns, str(s["configMap"].get("name")),
                                           s["configMap"], mode)
                elif "secret" in s:
                    await self._add_object(files, "Secret", ns, str(s["secret"].get("name")),
                                           s["secret"], mode)
                elif "downwardAPI" in s:
                    self._add_downward(files, pod, s["downwardAPI"].get("items") or [], mode,
                                       host_ip, pod_ip)
                elif "serviceAccountToken" in s:
                    rel = str(s["serviceAccountToken"].get("path") or "token")
                    files[rel] = (b"", mode)
        await asyncio.to_thread(_write_files, target, files)
        return str(target)

    async def _add_object(self, files: dict[str, tuple[bytes, int]], kind: str, ns: str,
                          name: str, src: JSON, mode: int) -> None:
        obj = await self.get(kind, ns, name)
        if obj is None:
            if src.get("optional"):
                return
            raise VolumeError(f'{kind.lower()} "{name}" not found')
        data = _decode(obj, kind)
        items = src.get("items")
        if items:
            for it in items:
                key = str(it.get("key"))
                if key not in data:
                    if src.get("optional"):
                        continue
                    raise VolumeError(f"configmap references non-existent config key: {key}"
                                      if kind == "ConfigMap" else
                                      f"references non-existent secret key: {key}")
                files[str(it.get("path") or key)] = (data[key], int(it.get("mode", mode)))
        else:
            for key, v in data.items():
                files[key] = (v, mode)

    def _add_downward(self, files: dict[str, tuple[bytes, int]], pod: JSON, items: list[JSON],
                      mode: int, host_ip: str, pod_ip: str) -> None:
        for it in items:
            if "fieldRef" in it:
                text = field_ref(pod, str(it["fieldRef"].get("fieldPath")), host_ip, pod_ip)
                files[str(it.get("path"))] = (text.encode(), int(it.get("mode", mode)))

    def _empty_dir(self, target: Path, tmpfs: bool, size: int | None) -> None:
        target.mkdir(parents=True, exist_ok=True)
        os.chmod(target, 0o777)
        if tmpfs and not os.path.ismount(target):
            opts = "mode=0777" + (f",size={size}" if size else "")
            r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(target)],
                               capture_output=True, text=True, check=False)
            if r.returncode != 0:
                raise VolumeError(f"mount tmpfs: {r.stderr.strip()}")

    async def teardown(self, uid: str) -> None:
        await asyncio.to_thread(self._teardown, self.pod_dir(uid))

    def _teardown(self, pod_dir: Path) -> None:
        if not pod_dir.exists():
            return
        vols = pod_dir / "volumes"
        if vols.exists():
            for p in sorted(vols.glob("*/*"), reverse=True):
                if os.path.ismount(p):
                    subprocess.run(["umount", "-l", str(p)], capture_output=True, check=False)
        shutil.rmtree(pod_dir, ignore_errors=True)


def _host_path(path: Path, kind: str) -> None:
    if kind == "DirectoryOrCreate":
        path.mkdir(parents=True, exist_ok=True, mode=0o755)
    elif kind == "FileOrCreate":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o644, exist_ok=True)
    elif kind == "Directory" and not path.is_dir():
        raise VolumeError(f"hostPath type check failed: {path} is not a directory")
    elif kind == "File" and not path.is_file():
        raise VolumeError(f"hostPath type check failed: {path} is not a file")
    elif kind == "Socket" and not path.is_socket():
        raise VolumeError(f"hostPath type check failed: {path} is not a socket file")
