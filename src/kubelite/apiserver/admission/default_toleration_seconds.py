"""DefaultTolerationSeconds: pods tolerate an unready or unreachable node for 300 s
(``plugin/pkg/admission/defaulttolerationseconds``), so that the node lifecycle
controller evicts them only after that."""

from __future__ import annotations

from kubelite.api import defaults
from kubelite.api.meta import JSON
from kubelite.apiserver.admission.interface import Attributes, PodPlugin, pod_spec

NOT_READY_TAINT = "node.kubernetes.io/not-ready"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"


def _added(tolerations: list[object]) -> list[JSON]:
    """The NoExecute tolerations of the two taints that ``tolerations`` lack."""
    tolerated = {NOT_READY_TAINT: False, UNREACHABLE_TAINT: False}
    for tol in tolerations:
        if not isinstance(tol, dict):
            continue
        key = tol.get("key") or ""
        effect = tol.get("effect") or ""
        if effect not in ("", "NoExecute"):
            continue
        for taint in tolerated:
            if key in ("", taint):
                tolerated[taint] = True
    return [
        {"key": taint, "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": defaults.DEFAULT_TOLERATION_SECONDS}
        for taint, ok in tolerated.items() if not ok
    ]


class DefaultTolerationSeconds(PodPlugin):
    """Adds the ``not-ready`` and ``unreachable`` NoExecute tolerations a pod lacks."""

    name = "DefaultTolerationSeconds"

    async def admit(self, attrs: Attributes) -> None:
        spec = pod_spec(attrs)
        if spec is None:
            return
        tolerations = spec.get("tolerations")
        if tolerations is None:
            tolerations = []
        if not isinstance(tolerations, list):
            return
        added = _added(tolerations)
        if added:
            spec["tolerations"] = tolerations + added
