"""Static pods: manifests in a folder, and their mirror pods in the API.

Contract: :func:`read_manifests` turns every ``*.yaml``/``*.yml``/``*.json`` file (not
hidden) holding a Pod into a pod with ``metadata.uid`` = ``config.hash`` = a hash of the
manifest, the node name and the source, named ``NAME-NODENAME`` and bound to the node;
the same manifest always gives the same uid (so running containers are adopted after a
restart) and an edited manifest gives a new uid (so the pod is replaced). Bad files are
reported and skipped. :func:`mirror_pod` is the API object that represents a static pod.
:func:`watch_folder` republishes the folder's pods when a manifest changes (files are read
off the event loop; the period is waited on the given clock).
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import yaml

from kubelite.aio.clock import Clock
from kubelite.kubelet import labels as L
from kubelite.kubelet.podspec import JSON

log = logging.getLogger(__name__)
SUFFIXES = (".yaml", ".yml", ".json")


def _fingerprint(folder: Path) -> tuple[tuple[str, float, int], ...]:
    out = []
    try:
        for p in sorted(folder.iterdir()):
            if p.name.startswith(".") or p.suffix not in SUFFIXES or not p.is_file():
                continue
            st = p.stat()
            out.append((p.name, st.st_mtime, st.st_size))
    except FileNotFoundError:
        return ()
    return tuple(out)


def _static_pod(doc: Any, node_name: str, path: Path) -> JSON:
    if not isinstance(doc, dict) or doc.get("kind") != "Pod":
        raise ValueError("not a Pod manifest")
    pod: JSON = copy.deepcopy(doc)
    meta = pod.setdefault("metadata", {})
    if not meta.get("name"):
        raise ValueError("metadata.name is required")
    meta.setdefault("namespace", "default")
    meta["namespace"] = meta["namespace"] or "default"
    spec = pod.setdefault("spec", {})
    if not spec.get("containers"):
        raise ValueError("spec.containers is required")
    h = hashlib.md5(usedforsecurity=False)
    h.update(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS))
    h.update(node_name.encode())
    h.update(b"file")
    uid = h.hexdigest()
    meta["name"] = f"{meta['name']}-{node_name}"
    meta["uid"] = uid
    ann = meta.setdefault("annotations", {})
    ann[L.CONFIG_HASH] = uid
    ann[L.CONFIG_SOURCE] = "file"
    spec["nodeName"] = node_name
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("tolerations", [{"operator": "Exists", "effect": "NoExecute"}])
    for c in list(spec.get("initContainers") or []) + list(spec["containers"]):
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
        image = str(c.get("image") or "")
        last = image.rsplit("/", 1)[-1]
        tag = last.split(":", 1)[1] if ":" in last else ""
        c.setdefault("imagePullPolicy",
                     "IfNotPresent" if ("@" in image or tag not in ("", "latest")) else "Always")
        c.setdefault("resources", {})
    pod["status"] = {"phase": "Pending"}
    pod.setdefault("apiVersion", "v1")
    return pod


def read_manifests(folder: str | Path, node_name: str) -> dict[str, JSON]:
    """Static pods by uid (blocking: run in a thread)."""
    root = Path(folder)
    pods: dict[str, JSON] = {}
    if not root.is_dir():
        return pods
    for name, _, _ in _fingerprint(root):
        path = root / name
        try:
            text = path.read_text()
            doc = orjson.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
            pod = _static_pod(doc, node_name, path)
        except (OSError, ValueError, yaml.YAMLError, orjson.JSONDecodeError) as exc:
            log.warning("static pod manifest %s skipped: %s", path, exc)
            continue
        pods[pod["metadata"]["uid"]] = pod
    return pods


def fingerprint(folder: str | Path) -> tuple[tuple[str, float, int], ...]:
    return _fingerprint(Path(folder))


def mirror_pod(static: JSON, node_uid: str) -> JSON:
    """The API object for a static pod: same name, labels, spec; annotation
    ``kubernetes.io/config.mirror``; owned by the Node."""
    meta = static["metadata"]
    ann = dict(meta.get("annotations") or {})
    ann[L.CONFIG_MIRROR] = meta["uid"]
    out_meta: JSON = {"name": meta["name"], "namespace": meta["namespace"],
                      "annotations": ann}
    if meta.get("labels"):
        out_meta["labels"] = dict(meta["labels"])
    node = static["spec"]["nodeName"]
    if node_uid:
        out_meta["ownerReferences"] = [{"apiVersion": "v1", "kind": "Node", "name": node,
                                        "uid": node_uid, "controller": True}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": out_meta,
            "spec": copy.deepcopy(static["spec"])}


async def read_folder(folder: str | None, node_name: str) -> dict[str, JSON]:
    """:func:`read_manifests` off the event loop; no folder holds no pods."""
    return await asyncio.to_thread(read_manifests, folder, node_name) if folder else {}


async def watch_folder(folder: str | None, node_name: str, period: float, clock: Clock,
                       publish: Callable[[dict[str, JSON]], None]) -> None:
    """Every ``period`` seconds, publish the folder's pods when a manifest changed."""
    last: tuple[tuple[str, float, int], ...] | None = None
    while True:
        if folder:
            fp = await asyncio.to_thread(fingerprint, folder)
            if fp != last:
                last = fp
                publish(await read_folder(folder, node_name))
        await clock.sleep(period)
