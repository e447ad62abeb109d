"""Adoption and release of objects by a controller (``ControllerRefManager`` upstream),
as a pure classification plus the patches that carry it out.

Contract: an object is *claimed* by an owner when its controller reference names the
owner's uid and it matches the owner's selector; it is *to adopt* when it has no
controller, matches, and neither it nor the owner is being deleted; it is *to release*
when the owner controls it but it no longer matches.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from kubelite.api.meta import JSON
from kubelite.api.selectors import LabelSelector
from kubelite.controllers.pods import controller_ref_of, meta, owner_refs, uid


@dataclass
class Claim:
    owned: list[JSON] = field(default_factory=list)
    adopt: list[JSON] = field(default_factory=list)
    release: list[JSON] = field(default_factory=list)


def classify(owner: JSON, selector: LabelSelector, objs: Iterable[JSON]) -> Claim:
    claim = Claim()
    owner_uid = uid(owner)
    owner_deleting = bool(meta(owner).get("deletionTimestamp"))
    for o in objs:
        ref = controller_ref_of(o)
        matches = selector.matches_object(o)
        if ref is not None:
            if ref.get("uid") != owner_uid:
                continue
            if matches:
                claim.owned.append(o)
            elif not owner_deleting:
                claim.release.append(o)
        elif matches and not owner_deleting and not meta(o).get("deletionTimestamp"):
            claim.adopt.append(o)
    return claim


def adopt_patch(owner_ref: JSON, obj: JSON) -> JSON:
    """A merge patch that makes ``owner_ref`` the controller of ``obj`` (conditional on
    its uid and resourceVersion)."""
    refs = [r for r in owner_refs(obj) if r.get("uid") != owner_ref.get("uid")]
    return {"metadata": {"ownerReferences": [*refs, owner_ref], "uid": uid(obj),
                         "resourceVersion": meta(obj).get("resourceVersion")}}


def release_patch(owner_uid: str, obj: JSON) -> JSON:
    """A merge patch that removes the reference to ``owner_uid`` from ``obj``."""
    refs = [r for r in owner_refs(obj) if r.get("uid") != owner_uid]
    return {"metadata": {"ownerReferences": refs or None, "uid": uid(obj),
                         "resourceVersion": meta(obj).get("resourceVersion")}}


def status_patch(old: JSON | None, new: JSON) -> JSON:
    """A merge patch turning status ``old`` into ``new`` (removed keys set to null)."""
    old = old or {}
    patch: JSON = {k: v for k, v in new.items() if old.get(k) != v}
    for k in old:
        if k not in new:
            patch[k] = None
    return {"status": patch}
