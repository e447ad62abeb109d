"""Ephemeral containers (``kubectl debug``): ``validateEphemeralContainers`` and
``ValidatePodEphemeralContainersUpdate`` of ``pkg/apis/core/validation``.

Contract: an ephemeral container is a container without ports, probes, lifecycle
hooks, resources or restart policy; its name is unique among all the pod's containers;
``targetContainerName`` names one of the pod's containers. They are added only through
the ``pods/ephemeralcontainers`` subresource, never on create, and once added they may
be neither changed nor removed.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from typing import Any

from kubelite.api.meta import JSON, dig
from kubelite.api.validation.field import Errors, list_at, str_at

# fields an ephemeral container may not have, in Kubernetes' order
_FORBIDDEN = ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe", "ports",
              "resources", "resizePolicy", "restartPolicy")


def validate_ephemeral_containers(spec: JSON, path: str, errs: Errors,
                                  check_container: Callable[[Any, str], None]) -> None:
    """``validateEphemeralContainers``; ``check_container(ctr, path)`` runs the checks
    every container gets (name, image, env, mounts)."""
    others = {str_at(c, "name") for key in ("containers", "initContainers")
              for c in list_at(spec, key)}
    targets = others
    seen: set[str] = set()
    epath = f"{path}.ephemeralContainers"
    for i, ec in enumerate(list_at(spec, "ephemeralContainers")):
        idx = f"{epath}[{i}]"
        check_container(ec, idx)
        name = str_at(ec, "name")
        if name and (name in others or name in seen):
            errs.duplicate(f"{idx}.name", name)
        seen.add(name)
        for key in _FORBIDDEN:
            value = dig(ec, key)
            if value not in (None, "", [], {}):
                errs.forbidden(f"{idx}.{key}", "cannot be set for an Ephemeral Container")
        target = str_at(ec, "targetContainerName")
        if target and target not in targets:
            errs.not_found(f"{idx}.targetContainerName", target)


def validate_pod_create(obj: JSON, errs: Errors) -> None:
    """``ValidatePodCreate``: ephemeral containers come later, through the subresource."""
    if list_at(dig(obj, "spec") or {}, "ephemeralContainers"):
        errs.forbidden("spec.ephemeralContainers", "cannot be set on create")


def validate_ephemeral_update(new: JSON, old: JSON, errs: Errors) -> None:
    """``ValidatePodEphemeralContainersUpdate``: existing ones stay as they are."""
    annotations = dig(old, "metadata", "annotations") or {}
    if isinstance(annotations, dict) and "kubernetes.io/config.mirror" in annotations:
        errs.forbidden("", "static pods do not support ephemeral containers")
        return
    path = "spec.ephemeralContainers"
    index = {str_at(c, "name"): c for c in list_at(dig(new, "spec") or {},
                                                   "ephemeralContainers")}
    for was in list_at(dig(old, "spec") or {}, "ephemeralContainers"):
        name = str_at(was, "name")
        now = index.get(name)
        if now is None:
            errs.forbidden(path, f'existing ephemeral containers "{name}" may not be removed\n')
        elif now != was:
            diff = "\n".join(difflib.unified_diff(_lines(was), _lines(now), lineterm=""))
            errs.forbidden(f"{path}[{name}]",
                           f'existing ephemeral containers "{name}" may not be changed\n{diff}')


def _lines(obj: JSON) -> list[str]:
    return json.dumps(obj, indent=1, sort_keys=True).splitlines()
