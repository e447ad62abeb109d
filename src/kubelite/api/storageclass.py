"""Storage classes of claims and volumes, as ``storage/util`` and ``v1/helper`` read them."""

from __future__ import annotations

from kubelite.api.meta import JSON, dig

DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
BETA_DEFAULT_CLASS_ANNOTATION = "storageclass.beta.kubernetes.io/is-default-class"
BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"


def claim_class(obj: JSON) -> str:
    """``GetPersistentVolumeClaimClass`` / ``GetPersistentVolumeClass``: the beta
    annotation first, then ``spec.storageClassName`` (``""``: no class)."""
    annotations = dig(obj, "metadata", "annotations")
    beta = annotations.get(BETA_CLASS_ANNOTATION) if isinstance(annotations, dict) else None
    if isinstance(beta, str):
        return beta
    name = dig(obj, "spec", "storageClassName")
    return name if isinstance(name, str) else ""


def is_default_class(obj: JSON) -> bool:
    """``IsDefaultAnnotation``: either default-class annotation is ``true``."""
    annotations = dig(obj, "metadata", "annotations")
    if not isinstance(annotations, dict):
        return False
    return (annotations.get(DEFAULT_CLASS_ANNOTATION) == "true"
            or annotations.get(BETA_DEFAULT_CLASS_ANNOTATION) == "true")
