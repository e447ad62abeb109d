"""Priority: a pod's priority comes from its PriorityClass (``plugin/pkg/admission/priority``).

Only the built-in system classes exist here; a pod naming no class gets priority 0. A
pod may not set ``priority`` or ``preemptionPolicy`` to anything else than what its class
gives; an update that drops them keeps the old values.
"""

from __future__ import annotations

from kubelite.api import defaults
from kubelite.api.meta import dig
from kubelite.apiserver.admission.interface import (
    UPDATE,
    Attributes,
    PodPlugin,
    forbidden,
    pod_spec,
)


class Priority(PodPlugin):
    """Sets ``priority`` and ``preemptionPolicy`` of pods on create, keeps them on update."""

    name = "Priority"

    async def admit(self, attrs: Attributes) -> None:
        spec = pod_spec(attrs)
        if spec is None:
            return
        if attrs.operation == UPDATE:
            old_spec = dig(attrs.old, "spec")
            old_spec = old_spec if isinstance(old_spec, dict) else {}
            # Priority is set on create; an update that drops it keeps the old value.
            for key in ("priority", "preemptionPolicy"):
                if spec.get(key) is None and old_spec.get(key) is not None:
                    spec[key] = old_spec[key]
            return
        class_name = spec.get("priorityClassName")
        priority = 0
        if isinstance(class_name, str) and class_name:
            if class_name not in defaults.SYSTEM_PRIORITY_CLASSES:
                raise forbidden(attrs, f"no PriorityClass with name {class_name} was found")
            priority = defaults.SYSTEM_PRIORITY_CLASSES[class_name]
        given = spec.get("priority")
        if given is not None and given != priority:
            raise forbidden(
                attrs, f"the integer value of priority ({given}) must not be provided in pod "
                f"spec; priority admission controller computed {priority} from the given "
                "PriorityClass name")
        spec["priority"] = priority
        policy = spec.get("preemptionPolicy")
        lower = defaults.PREEMPT_LOWER_PRIORITY
        if policy is not None and policy != lower:
            raise forbidden(
                attrs, f"the string value of PreemptionPolicy ({policy}) must not be provided "
                f"in pod spec; priority admission controller computed {lower} from the given "
                "PriorityClass name")
        spec["preemptionPolicy"] = lower
