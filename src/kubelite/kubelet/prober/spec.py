"""A container probe as the kubelet reads it (API defaults applied here as well)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from kubelite.api.meta import JSON as JSON


class ProbeType(enum.StrEnum):
    STARTUP = "Startup"
    LIVENESS = "Liveness"
    READINESS = "Readiness"

    @property
    def field(self) -> str:
        return {"Startup": "startupProbe", "Liveness": "livenessProbe",
                "Readiness": "readinessProbe"}[self.value]


@dataclass(frozen=True)
class ProbeSpec:
    """Timing and handler of one probe; the handler stays the API's JSON."""

    type: ProbeType
    handler: JSON
    initial_delay: int = 0
    period: int = 10
    timeout: int = 1
    success_threshold: int = 1
    failure_threshold: int = 3
    termination_grace: int | None = None

    @property
    def kind(self) -> str:
        """exec, httpGet, tcpSocket, grpc (or "" when the probe has none)."""
        for k in ("exec", "httpGet", "tcpSocket", "grpc"):
            if k in self.handler and self.handler[k] is not None:
                return k
        return ""


def _pos(v: Any, default: int, minimum: int) -> int:
    try:
        n = int(v)
    except (TypeError, ValueError):
        return default
    return n if n >= minimum else default


def parse_probe(type_: ProbeType, probe: JSON | None) -> ProbeSpec | None:
    """The probe of ``container[type_.field]``, with Kubernetes' defaults (period 10 s,
    timeout 1 s, thresholds 1 and 3); None when the container has no such probe."""
    if not probe:
        return None
    grace = probe.get("terminationGracePeriodSeconds")
    return ProbeSpec(
        type=type_,
        handler=probe,
        initial_delay=max(0, _pos(probe.get("initialDelaySeconds"), 0, 0)),
        period=_pos(probe.get("periodSeconds"), 10, 1),
        timeout=_pos(probe.get("timeoutSeconds"), 1, 1),
        success_threshold=_pos(probe.get("successThreshold"), 1, 1),
        failure_threshold=_pos(probe.get("failureThreshold"), 3, 1),
        termination_grace=int(grace) if grace is not None else None,
    )


def container_probes(container: JSON) -> list[ProbeSpec]:
    out = []
    for t in ProbeType:
        p = parse_probe(t, container.get(t.field))
        if p is not None:
            out.append(p)
    return out
