"""Priority: a pod's priority comes from its PriorityClass (``plugin/pkg/admission/priority``).

On pod create the class named by ``priorityClassName`` is looked up (403 ``no
PriorityClass with name X was found`` when absent); a pod naming none gets the value of
the ``globalDefault`` class (and that class's name), or 0. ``priority`` and
``preemptionPolicy`` may not be set to anything else than what the class gives; an
update that drops them keeps the old values. On PriorityClass writes, only one class may
be the global default.
"""

from __future__ import annotations

from typing import Any

from kubelite.api import defaults, scheme
from kubelite.api.meta import JSON, dig
from kubelite.apiserver.admission.interface import (
    CREATE,
    UPDATE,
    Attributes,
    Operation,
    Plugin,
    forbidden,
    is_pod,
    pod_spec,
)
from kubelite.storage.interface import Store

PRIORITY_CLASSES = scheme.lookup("scheduling.k8s.io", "v1", "priorityclasses")


class Priority(Plugin):
    """Sets ``priority`` and ``preemptionPolicy`` of pods on create, keeps them on update;
    keeps PriorityClasses to one global default."""

    name = "Priority"

    def __init__(self, store: Store | None = None) -> None:
        self.store = store

    def handles(self, operation: Operation, resource: scheme.Resource,
                subresource: str | None) -> bool:
        if resource.group == "scheduling.k8s.io" and resource.plural == "priorityclasses":
            return operation in (CREATE, UPDATE) and subresource is None
        return operation in (CREATE, UPDATE) and is_pod(resource, subresource)

    async def _classes(self) -> list[JSON]:
        if self.store is None or PRIORITY_CLASSES is None:
            return [defaults.system_priority_class(n) for n in defaults.SYSTEM_PRIORITY_CLASSES]
        return list((await self.store.list(PRIORITY_CLASSES.prefix(None))).items)

    async def admit(self, attrs: Attributes) -> None:
        if attrs.resource.plural == "priorityclasses":
            await self._admit_class(attrs)
            return
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
        classes = await self._classes()
        priority = 0
        lower = defaults.PREEMPT_LOWER_PRIORITY
        policy_of_class: Any = lower
        if isinstance(class_name, str) and class_name:
            pc = next((c for c in classes if dig(c, "metadata", "name") == class_name), None)
            if pc is None:
                raise forbidden(attrs, f"no PriorityClass with name {class_name} was found")
            priority = int(pc.get("value") or 0)
            policy_of_class = pc.get("preemptionPolicy") or lower
        else:
            default = _global_default(classes)
            if default is not None:
                spec["priorityClassName"] = dig(default, "metadata", "name")
                priority = int(default.get("value") or 0)
                policy_of_class = default.get("preemptionPolicy") or lower
        given = spec.get("priority")
        if given is not None and given != priority:
            raise forbidden(
                attrs, f"the integer value of priority ({given}) must not be provided in pod "
                f"spec; priority admission controller computed {priority} from the given "
                "PriorityClass name")
        spec["priority"] = priority
        policy = spec.get("preemptionPolicy")
        if policy is not None and policy != policy_of_class:
            raise forbidden(
                attrs, f"the string value of PreemptionPolicy ({policy}) must not be provided "
                f"in pod spec; priority admission controller computed {policy_of_class} from "
                "the given PriorityClass name")
        spec["preemptionPolicy"] = policy_of_class

    async def _admit_class(self, attrs: Attributes) -> None:
        obj = attrs.obj if isinstance(attrs.obj, dict) else {}
        if not obj.get("globalDefault"):
            return
        default = _global_default(c for c in await self._classes()
                                  if dig(c, "metadata", "name") != attrs.name)
        if default is not None:
            raise forbidden(attrs, f"PriorityClass {dig(default, 'metadata', 'name')} is "
                            "already marked as default. Only one default can exist")


def _global_default(classes: Any) -> JSON | None:
    """The global default class; of several (written concurrently), the lowest value."""
    found = [c for c in classes if c.get("globalDefault")]
    return min(found, key=lambda c: int(c.get("value") or 0)) if found else None
