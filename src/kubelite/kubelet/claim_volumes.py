"""``persistentVolumeClaim`` volumes: claim -> bound PV -> the PV's directory on this host.

Contract: :func:`claim_paths` returns each claim volume's host directory (a ``hostPath``
PV's path, created when its type is ``DirectoryOrCreate``, or a ``local`` PV's path,
which must exist), or raises :class:`ClaimsNotReady` with the kubelet's FailedMount text
(``Unable to attach or mount volumes: ...``) when a claim is missing, not yet bound, or
its volume cannot be used; the pod then waits in ContainerCreating and is retried.
The directories are bind-mounted into containers like every other volume.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from kubelite.kubelet.envvars import ObjectGetter
from kubelite.kubelet.podspec import JSON, meta, spec


class ClaimsNotReady(Exception):
    """Some claim volumes cannot be mounted yet; the message is the FailedMount event."""


def _directory(path: Path, kind: str) -> None:
    if kind == "DirectoryOrCreate" and not path.exists():
        path.mkdir(parents=True, mode=0o777)
        os.chmod(path, 0o777)  # as local-path's helper: writable by any container user
    if not path.is_dir():
        raise OSError(f"path {path} does not exist")


async def _one(get: ObjectGetter, ns: str, claim_name: str) -> str:
    claim = await get("PersistentVolumeClaim", ns, claim_name)
    if claim is None:
        raise ClaimsNotReady(f"error processing PVC {ns}/{claim_name}: failed to fetch PVC "
                             f'from API server: persistentvolumeclaims "{claim_name}" not found')
    volume = str((claim.get("spec") or {}).get("volumeName") or "")
    if not volume or (claim.get("status") or {}).get("phase") != "Bound":
        raise ClaimsNotReady(f"error processing PVC {ns}/{claim_name}: PVC is not bound")
    pv = await get("PersistentVolume", "", volume)
    if pv is None:
        raise ClaimsNotReady(f"error processing PVC {ns}/{claim_name}: failed to fetch PV "
                             f'{volume} from API server: persistentvolumes "{volume}" not found')
    pv_spec = pv.get("spec") or {}
    source = pv_spec.get("hostPath") or pv_spec.get("local")
    if not isinstance(source, dict) or not source.get("path"):
        raise ClaimsNotReady(f"error processing PVC {ns}/{claim_name}: volume {volume} has "
                             f"no host path (only hostPath and local volumes are supported)")
    path = Path(str(source["path"]))
    kind = str(source.get("type") or "") if "hostPath" in pv_spec else ""
    try:
        await asyncio.to_thread(_directory, path, kind)
    except OSError as exc:
        raise ClaimsNotReady(f'MountVolume.NewMounter initialization failed for volume '
                             f'"{volume}" : {exc}') from exc
    return str(path)


async def claim_paths(pod: JSON, get: ObjectGetter) -> dict[str, str]:
    """Volume name -> host directory for the pod's claim volumes (see the contract)."""
    ns = str(meta(pod).get("namespace") or "default")
    volumes = [v for v in spec(pod).get("volumes") or [] if isinstance(v, dict)]
    paths: dict[str, str] = {}
    failed: list[str] = []
    first: str | None = None
    for vol in volumes:
        src = vol.get("persistentVolumeClaim")
        if not isinstance(src, dict):
            continue
        try:
            paths[str(vol.get("name"))] = await _one(get, ns, str(src.get("claimName")))
        except ClaimsNotReady as exc:
            failed.append(str(vol.get("name")))
            first = first or str(exc)
    if failed:
        names = " ".join(sorted(failed))
        raise ClaimsNotReady(f"Unable to attach or mount volumes: unmounted volumes=[{names}], "
                             f"unattached volumes=[], failed to process volumes=[{names}]: "
                             f"{first}")
    return paths
