"""Which PodDisruptionBudgets cover a pod (shared by the eviction check and the
disruption controller)."""

from __future__ import annotations

from kubelite.api import errors
from kubelite.api.meta import JSON, dig
from kubelite.api.selectors import label_selector_from_dict


def selects(pdb: JSON, pod: JSON) -> bool:
    """Whether ``pdb``'s selector (valid, non-empty) matches ``pod``'s labels."""
    selector = dig(pdb, "spec", "selector")
    if not isinstance(selector, dict):
        return False
    try:
        sel = label_selector_from_dict(selector)
    except errors.StatusError:
        return False
    return not sel.empty and sel.matches_object(pod)


def matching_budgets(pod: JSON, budgets: list[JSON]) -> list[JSON]:
    """The budgets of ``budgets`` that cover ``pod``."""
    return [pdb for pdb in budgets if selects(pdb, pod)]
