"""apps/v1 validation (``pkg/apis/apps/validation``): Deployments, ReplicaSets, DaemonSets.

Selectors (strict values, not empty, matching the template's labels, immutable on
update) and the pod template, whose restart policy must be ``Always``.
"""

from __future__ import annotations

from typing import Any

from kubelite.api import errors
from kubelite.api._gofmt import go_string_map
from kubelite.api.meta import JSON, dig
from kubelite.api.names import FIELD_IMMUTABLE_MSG, is_qualified_name, is_valid_label_value
from kubelite.api.selectors import label_selector_from_dict
from kubelite.api.validation.core import validate_pod_template
from kubelite.api.validation.field import (
    Errors,
    GoValue,
    dict_at,
    format_label_selector_struct,
    int_at,
    list_at,
    nonnegative,
    str_at,
)
from kubelite.api.validation.objectmeta import validate_labels


def _validate_label_selector(selector: Any, path: str, errs: Errors) -> None:
    """``ValidateLabelSelector`` (strict values)."""
    if not isinstance(selector, dict):
        return
    validate_labels(selector.get("matchLabels"), f"{path}.matchLabels", errs)
    for i, expr in enumerate(list_at(selector, "matchExpressions")):
        epath = f"{path}.matchExpressions[{i}]"
        op = str_at(expr, "operator")
        values = list_at(expr, "values")
        if op in ("In", "NotIn"):
            if not values:
                errs.required(f"{epath}.values",
                              "must be specified when `operator` is 'In' or 'NotIn'")
        elif op in ("Exists", "DoesNotExist"):
            if values:
                errs.forbidden(f"{epath}.values",
                               "may not be specified when `operator` is 'Exists' or "
                               "'DoesNotExist'")
        else:
            errs.invalid(f"{epath}.operator", op, "not a valid selector operator")
        key = str_at(expr, "key")
        for msg in is_qualified_name(key):
            errs.invalid(f"{epath}.key", key, msg)
        for j, v in enumerate(values):
            for msg in is_valid_label_value(str(v)):
                errs.invalid(f"{epath}.values[{j}]", str(v), msg)


def _template_labels_match(spec: JSON, errs: Errors, path: str) -> bool:
    """Whether the selector parses; reports template labels the selector does not match."""
    selector = spec.get("selector")
    try:
        sel = label_selector_from_dict(selector if isinstance(selector, dict) else None)
    except errors.StatusError:
        errs.invalid(f"{path}.selector", GoValue(format_label_selector_struct(selector)),
                     "invalid label selector")
        return False
    labels = dict_at(dict_at(spec, "template"), "metadata").get("labels")
    if not sel.empty and not sel.matches(labels if isinstance(labels, dict) else None):
        errs.invalid(f"{path}.template.metadata.labels",
                     GoValue(go_string_map(labels if isinstance(labels, dict) else None)),
                     "`selector` does not match template `labels`")
    return True


def _empty_selector(selector: Any) -> bool:
    return isinstance(selector, dict) and not (selector.get("matchLabels")
                                               or selector.get("matchExpressions"))


def validate_deployment(obj: JSON, errs: Errors) -> None:
    """``ValidateDeploymentSpec``."""
    _validate_replicated_spec(obj, "deployment", errs)


def validate_replica_set(obj: JSON, errs: Errors) -> None:
    """``ValidateReplicaSetSpec``."""
    _validate_replicated_spec(obj, "replicaset", errs)


def _validate_replicated_spec(obj: JSON, kind_word: str, errs: Errors) -> None:
    """Deployments and ReplicaSets (``ValidateDeploymentSpec`` / ``ValidateReplicaSetSpec``)."""
    spec = dict_at(obj, "spec")
    path = "spec"
    nonnegative(int_at(spec, "replicas"), f"{path}.replicas", errs)
    if kind_word == "replicaset":
        nonnegative(int_at(spec, "minReadySeconds"), f"{path}.minReadySeconds", errs)
    selector = spec.get("selector")
    if not isinstance(selector, dict):
        errs.required(f"{path}.selector")
    else:
        _validate_label_selector(selector, f"{path}.selector", errs)
        if _empty_selector(selector):
            errs.invalid(f"{path}.selector", GoValue(format_label_selector_struct(selector)),
                         "empty selector is invalid for deployment")
    if _template_labels_match(spec, errs, path):
        template = spec.get("template")
        validate_pod_template(template, f"{path}.template", errs)
        _template_restart_always(template, f"{path}.template", kind_word, errs)
    if kind_word == "deployment":
        nonnegative(int_at(spec, "minReadySeconds"), f"{path}.minReadySeconds", errs)
        nonnegative(int_at(spec, "revisionHistoryLimit"),
                              f"{path}.revisionHistoryLimit", errs)
        strategy = dict_at(spec, "strategy")
        stype = dig(strategy, "type")
        if stype is not None and stype not in ("Recreate", "RollingUpdate"):
            errs.not_supported(f"{path}.strategy.type", stype, ["Recreate", "RollingUpdate"])


def _template_restart_always(template: Any, path: str, kind_word: str, errs: Errors) -> None:
    spec = dict_at(template, "spec")
    policy = dig(spec, "restartPolicy")
    if policy is not None and policy != "Always":
        errs.not_supported(f"{path}.spec.restartPolicy", policy, ["Always"])
    deadline = dig(spec, "activeDeadlineSeconds")
    if deadline is not None:
        if kind_word == "daemonset":
            errs.forbidden(f"{path}.spec.activeDeadlineSeconds",
                           "activeDeadlineSeconds in DaemonSet is not Supported")
        else:
            errs.invalid(f"{path}.spec.activeDeadlineSeconds", deadline,
                         "activeDeadlineSeconds in ReplicaSet is not Supported")


def validate_daemon_set(obj: JSON, errs: Errors) -> None:
    spec = dict_at(obj, "spec")
    selector = spec.get("selector")
    # Unlike Deployments and ReplicaSets, a missing selector is reported only as the
    # template mismatch below (a nil selector matches nothing).
    _validate_label_selector(selector, "spec.selector", errs)
    try:
        sel = label_selector_from_dict(selector if isinstance(selector, dict) else None)
    except errors.StatusError:
        sel = None
    labels = dict_at(dict_at(spec, "template"), "metadata").get("labels")
    if sel is not None and not sel.matches(labels if isinstance(labels, dict) else None):
        errs.invalid("spec.template.metadata.labels",
                     GoValue(go_string_map(labels if isinstance(labels, dict) else None)),
                     "`selector` does not match template `labels`")
    if _empty_selector(selector):
        errs.invalid("spec.selector", GoValue(format_label_selector_struct(selector)),
                     "empty selector is invalid for daemonset")
    validate_pod_template(spec.get("template"), "spec.template", errs)
    _template_restart_always(spec.get("template"), "spec.template", "daemonset", errs)
    nonnegative(int_at(spec, "minReadySeconds"), "spec.minReadySeconds", errs)
    strategy = dict_at(spec, "updateStrategy")
    stype = dig(strategy, "type")
    if stype is not None and stype not in ("OnDelete", "RollingUpdate"):
        errs.not_supported("spec.updateStrategy.type", stype, ["OnDelete", "RollingUpdate"])


def validate_selector_immutable(new: JSON, old: JSON, errs: Errors) -> None:
    """A workload's ``spec.selector`` may not change."""
    new_sel = dict_at(new, "spec").get("selector")
    old_sel = dict_at(old, "spec").get("selector")
    if new_sel != old_sel:
        errs.invalid("spec.selector", GoValue(format_label_selector_struct(
            new_sel if isinstance(new_sel, dict) else None)), FIELD_IMMUTABLE_MSG)




def validate_label_selector(selector: Any, path: str, errs: Errors) -> None:
    """``ValidateLabelSelector`` (strict values), for kinds beyond this module's."""
    _validate_label_selector(selector, path, errs)


def validate_selector_and_template(spec: JSON, kind_word: str, errs: Errors) -> None:
    """A set spec's selector (valid, not empty) and that it matches the template."""
    selector = spec.get("selector")
    _validate_label_selector(selector, "spec.selector", errs)
    if _empty_selector(selector):
        errs.invalid("spec.selector", GoValue(format_label_selector_struct(selector)),
                     f"empty selector is invalid for {kind_word}")
    _template_labels_match(spec, errs, "spec")
