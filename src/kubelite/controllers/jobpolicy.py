"""A Job's policies, pure: ``podFailurePolicy`` rules matched against a failed pod, and
``successPolicy`` rules matched against the succeeded indexes.

Contracts (as ``pkg/controller/job/pod_failure_policy.go`` and ``success_policy.go``):
- the rules of ``podFailurePolicy`` are tried in order on a pod in phase Failed and the
  first that matches gives its action (FailJob, FailIndex, Ignore, Count); ``onExitCodes``
  looks at every terminated container (init containers too) except those that exited 0,
  optionally only the one named; ``onPodConditions`` at the pod's conditions of that type
  and status; no match means Count;
- a ``successPolicy`` rule matches when the succeeded indexes include all of its
  ``succeededIndexes`` (or, with ``succeededCount``, at least that many of them, or of
  all indexes when it names none).
"""

from __future__ import annotations

from kubelite.api.meta import JSON
from kubelite.controllers.pods import meta

FAIL_JOB = "FailJob"
FAIL_INDEX = "FailIndex"
IGNORE = "Ignore"
COUNT = "Count"


def _terminated(pod: JSON) -> list[tuple[str, int]]:
    status = pod.get("status") or {}
    out: list[tuple[str, int]] = []
    for key in ("initContainerStatuses", "containerStatuses"):
        for s in status.get(key) or []:
            term = (s.get("state") or {}).get("terminated") or {}
            code = term.get("exitCode")
            if isinstance(code, int) and code != 0:
                out.append((str(s.get("name")), code))
    return out


def match_pod_failure_policy(job: JSON, pod: JSON) -> tuple[str, str]:
    """The action for the failed ``pod`` and, for a match, kube's message for it."""
    policy = (job.get("spec") or {}).get("podFailurePolicy") or {}
    where = f"{meta(pod).get('namespace')}/{meta(pod).get('name')}"
    for i, rule in enumerate(policy.get("rules") or []):
        action = str(rule.get("action") or COUNT)
        codes = rule.get("onExitCodes")
        if isinstance(codes, dict):
            values = set(codes.get("values") or [])
            only = codes.get("containerName")
            for name, code in _terminated(pod):
                if only and name != only:
                    continue
                hit = (code in values) if codes.get("operator") == "In" else \
                    (code not in values)
                if hit:
                    return action, (f"Container {name} for pod {where} failed with exit code "
                                    f"{code} matching {action} rule at index {i}")
        for pattern in rule.get("onPodConditions") or []:
            want = str(pattern.get("status") or "True")
            for c in (pod.get("status") or {}).get("conditions") or []:
                if c.get("type") == pattern.get("type") and c.get("status") == want:
                    return action, (f"Pod {where} has condition {c.get('type')} matching "
                                    f"{action} rule at index {i}")
    return COUNT, ""


# -- completed indexes ("1,3-5") --------------------------------------------------------

def format_indexes(indexes: set[int]) -> str:
    """``1,3-5``: sorted, consecutive runs as ranges (``status.completedIndexes``)."""
    out: list[str] = []
    ordered = sorted(indexes)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        out.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(out)


def parse_indexes(text: object, completions: int) -> set[int]:
    """The indexes of ``status.completedIndexes`` below ``completions``."""
    out: set[int] = set()
    if not isinstance(text, str):
        return out
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        try:
            first, last = int(lo), int(hi or lo)
        except ValueError:
            continue
        out.update(i for i in range(first, last + 1) if 0 <= i < completions)
    return out


def matched_success_rule(job: JSON, succeeded: set[int]) -> int | None:
    """The index of the first ``successPolicy`` rule ``succeeded`` satisfies."""
    spec = job.get("spec") or {}
    completions = spec.get("completions")
    if not isinstance(completions, int):
        return None
    for i, rule in enumerate((spec.get("successPolicy") or {}).get("rules") or []):
        named = rule.get("succeededIndexes")
        scope = parse_indexes(named, completions) if named is not None else set(range(completions))
        count = rule.get("succeededCount")
        have = len(scope & succeeded)
        if (isinstance(count, int) and have >= count) or \
                (not isinstance(count, int) and scope and have == len(scope)):
            return i
    return None
