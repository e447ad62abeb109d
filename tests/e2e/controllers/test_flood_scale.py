"""Acceptance: a Deployment scaled to 5,000 pods and back to 0 leaves the API answering
``kubectl get ns`` within 1 s throughout (control plane only: the pods stay Pending)."""

from __future__ import annotations

import json

import pytest

from kubelite.testing.flood import scale_and_measure
from kubelite.testing.server_process import ServerProcess

pytestmark = pytest.mark.e2e

PODS = 5000


def test_scaling_to_5000_pods_and_back_keeps_kubectl_answering(
        server: ServerProcess) -> None:
    result = scale_and_measure(server, PODS, timeout=90)
    report = json.dumps(result, indent=1)
    for phase in ("scale-up", "scale-down", "after"):
        assert result[phase]["failures"] == 0, report
        assert result[phase]["p99"] < 1.0, report
    assert result["scale-up"]["n"] + result["scale-down"]["n"] >= 10, report
    left = server.kubectl("get", "pods", "-l", "app=flood", "-o", "name")
    assert left.returncode == 0 and left.stdout.strip() == "", left.stdout[:500]
    print(report)
