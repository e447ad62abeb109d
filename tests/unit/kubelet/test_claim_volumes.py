"""The kubelet's claim volumes: claim -> bound PV -> host directory, or kube's
FailedMount text while a claim is missing or unbound."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubelite.kubelet.claim_volumes import ClaimsNotReady, claim_paths

JSON = dict[str, Any]
POD: JSON = {"metadata": {"namespace": "ns", "name": "p"},
             "spec": {"volumes": [{"name": "data",
                                   "persistentVolumeClaim": {"claimName": "c"}},
                                  {"name": "tmp", "emptyDir": {}}]}}


def getter(objects: dict[tuple[str, str], JSON]) -> Any:
    async def get(kind: str, ns: str, name: str) -> JSON | None:
        return objects.get((kind, name))
    return get


def prefix(detail: str) -> str:
    return ("Unable to attach or mount volumes: unmounted volumes=[data], unattached "
            f"volumes=[], failed to process volumes=[data]: {detail}")


@pytest.mark.parametrize(("objects", "message"), [
    ({}, prefix('error processing PVC ns/c: failed to fetch PVC from API server: '
                'persistentvolumeclaims "c" not found')),
    ({("PersistentVolumeClaim", "c"): {"spec": {}, "status": {"phase": "Pending"}}},
     prefix("error processing PVC ns/c: PVC is not bound")),
    ({("PersistentVolumeClaim", "c"): {"spec": {"volumeName": "v"},
                                        "status": {"phase": "Bound"}}},
     prefix("error processing PVC ns/c: failed to fetch PV v from API server: "
            'persistentvolumes "v" not found')),
])
async def test_claims_not_ready(objects: dict[tuple[str, str], JSON], message: str) -> None:
    with pytest.raises(ClaimsNotReady) as err:
        await claim_paths(POD, getter(objects))
    assert str(err.value) == message


async def test_bound_claim_is_its_volumes_directory(tmp_path: Path) -> None:
    target = tmp_path / "pvc-1"
    objects = {("PersistentVolumeClaim", "c"): {"spec": {"volumeName": "v"},
                                                 "status": {"phase": "Bound"}},
               ("PersistentVolume", "v"): {"spec": {"hostPath": {
                   "path": str(target), "type": "DirectoryOrCreate"}}}}
    assert await claim_paths(POD, getter(objects)) == {"data": str(target)}
    assert target.is_dir() and (target.stat().st_mode & 0o777) == 0o777
