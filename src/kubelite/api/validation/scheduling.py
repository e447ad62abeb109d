"""PriorityClasses (scheduling.k8s.io/v1): ``pkg/apis/scheduling/validation``.

Contract: names starting ``system-`` are reserved for the built-in classes (with their
own values); a user class's value is at most one billion; ``preemptionPolicy`` is
``PreemptLowerPriority`` or ``Never``; value and preemptionPolicy never change.
"""

from __future__ import annotations

from kubelite.api import defaults
from kubelite.api.meta import JSON, dig
from kubelite.api.validation.field import Errors

HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000
SYSTEM_PREFIX = "system-"
PREEMPTION_POLICIES = ["Never", defaults.PREEMPT_LOWER_PRIORITY]


def validate_priority_class(pc: JSON, errs: Errors) -> None:
    name = str(dig(pc, "metadata", "name") or "")
    value = pc.get("value")
    if name.startswith(SYSTEM_PREFIX):
        if defaults.SYSTEM_PRIORITY_CLASSES.get(name) != value:
            errs.forbidden("metadata.name", f"priority class names with '{SYSTEM_PREFIX}' "
                           "prefix are reserved for system use only")
    elif isinstance(value, int) and value > HIGHEST_USER_DEFINABLE_PRIORITY:
        errs.forbidden("value", "maximum allowed value of a user defined priority is "
                       f"{HIGHEST_USER_DEFINABLE_PRIORITY}")
    policy = pc.get("preemptionPolicy")
    if policy is not None and policy not in PREEMPTION_POLICIES:
        errs.not_supported("preemptionPolicy", policy, PREEMPTION_POLICIES)


def validate_priority_class_update(new: JSON, old: JSON, errs: Errors) -> None:
    if new.get("value") != old.get("value"):
        errs.forbidden("value", "may not be changed in an update.")
    if new.get("preemptionPolicy") != old.get("preemptionPolicy"):
        errs.invalid("preemptionPolicy", new.get("preemptionPolicy"), "field is immutable")
