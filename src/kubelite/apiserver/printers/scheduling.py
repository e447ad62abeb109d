"""``kubectl get priorityclasses`` columns (scheduling.k8s.io)."""

from __future__ import annotations

from kubelite.apiserver.printers.tables import AGE_COL, Printer, age_cell, col, name_col, name_of

PRIORITY_CLASS = Printer(
    (
        name_col(),
        col("Value", "Value is the integer value of this priority class. This is the actual "
            "priority that pods receive when they have the name of this class in their pod "
            "spec.", type_="integer"),
        col("Global-Default", "globalDefault specifies whether this PriorityClass should be "
            "considered as the default priority for pods that do not have any priority "
            "class. Only one PriorityClass can be marked as `globalDefault`.",
            type_="boolean"),
        AGE_COL,
        col("PreemptionPolicy", "preemptionPolicy is the Policy for preempting pods with "
            "lower priority. One of Never, PreemptLowerPriority. Defaults to "
            "PreemptLowerPriority if unset."),
    ),
    lambda obj, now: [name_of(obj), obj.get("value", 0), bool(obj.get("globalDefault")),
                      age_cell(obj, now), str(obj.get("preemptionPolicy") or "")],
)
