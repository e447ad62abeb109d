"""Object metadata validation (apimachinery's ``ValidateObjectMeta`` and labels).

Shared by every kind: names through the kind's name function, namespace scope, labels,
annotations (256 KiB in all), owner references, and what an update may not change.
"""

from __future__ import annotations

from typing import Any

from kubelite.api.names import (
    FIELD_IMMUTABLE_MSG,
    is_qualified_name,
    is_valid_label_value,
    name_is_dns_label,
)
from kubelite.api.validation.field import (
    Errors,
    NameFn,
    int_at,
    list_at,
    nonnegative,
    str_at,
)

TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024


def validate_labels(labels: Any, path: str, errs: Errors) -> None:
    """``ValidateLabels``: qualified-name keys and label values (keys in sorted order)."""
    if not isinstance(labels, dict):
        return
    for k in sorted(labels):
        for msg in is_qualified_name(str(k)):
            errs.invalid(path, str(k), msg)
        v = labels[k]
        for msg in is_valid_label_value("" if v is None else str(v)):
            errs.invalid(path, "" if v is None else str(v), msg)


def validate_annotations(annotations: Any, path: str, errs: Errors) -> None:
    if not isinstance(annotations, dict):
        return
    size = 0
    for k in sorted(annotations):
        for msg in is_qualified_name(str(k).lower()):
            errs.invalid(path, str(k), msg)
        size += len(str(k)) + len(str(annotations[k] or ""))
    if size > TOTAL_ANNOTATION_SIZE_LIMIT:
        errs.too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT)



# -- object metadata ---------------------------------------------------------------------

def validate_object_meta(meta: Any, namespaced: bool, name_fn: NameFn, errs: Errors,
                         path: str = "metadata") -> None:
    """``ValidateObjectMeta``: names, namespace, labels, annotations, owner references."""
    meta = meta if isinstance(meta, dict) else {}
    generate_name = str_at(meta, "generateName")
    if generate_name:
        for msg in name_fn(generate_name, True):
            errs.invalid(f"{path}.generateName", generate_name, msg)
    name = str_at(meta, "name")
    if not name:
        if not generate_name:
            errs.required(f"{path}.name", "name or generateName is required")
    else:
        for msg in name_fn(name, False):
            errs.invalid(f"{path}.name", name, msg)
    namespace = str_at(meta, "namespace")
    if namespaced:
        if not namespace:
            errs.required(f"{path}.namespace")
        else:
            for msg in name_is_dns_label(namespace, False):
                errs.invalid(f"{path}.namespace", namespace, msg)
    elif namespace:
        errs.forbidden(f"{path}.namespace", "not allowed on this type")
    nonnegative(int_at(meta, "generation"), f"{path}.generation", errs)
    validate_labels(meta.get("labels"), f"{path}.labels", errs)
    validate_annotations(meta.get("annotations"), f"{path}.annotations", errs)
    for i, ref in enumerate(list_at(meta, "ownerReferences")):
        rpath = f"{path}.ownerReferences[{i}]"
        api_version = str_at(ref, "apiVersion")
        if not api_version.rpartition("/")[2]:
            errs.invalid(f"{rpath}.apiVersion", api_version, "version must not be empty")
        if not str_at(ref, "kind"):
            errs.invalid(f"{rpath}.kind", str_at(ref, "kind"), "kind must not be empty")
        if not str_at(ref, "name"):
            errs.invalid(f"{rpath}.name", str_at(ref, "name"), "name must not be empty")
        if not str_at(ref, "uid"):
            errs.invalid(f"{rpath}.uid", str_at(ref, "uid"), "uid must not be empty")


def validate_object_meta_update(new: Any, old: Any, errs: Errors,
                                path: str = "metadata") -> None:
    """``ValidateObjectMetaUpdate``: name, namespace, uid and creation time are immutable."""
    new = new if isinstance(new, dict) else {}
    old = old if isinstance(old, dict) else {}
    for key in ("name", "namespace", "uid", "creationTimestamp"):
        if key == "uid" and not new.get(key):
            continue
        if new.get(key) != old.get(key) and (new.get(key) or old.get(key)):
            errs.invalid(f"{path}.{key}", new.get(key) or "", FIELD_IMMUTABLE_MSG)


