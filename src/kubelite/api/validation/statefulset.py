"""apps/v1 StatefulSets, ControllerRevisions and policy/v1 PodDisruptionBudgets
(``pkg/apis/apps/validation``, ``pkg/apis/policy/validation``, kube 1.32)."""

from __future__ import annotations

from typing import Any

from kubelite.api.meta import JSON, dig
from kubelite.api.names import FIELD_IMMUTABLE_MSG
from kubelite.api.validation import apps
from kubelite.api.validation.core import validate_pod_template
from kubelite.api.validation.field import (
    Errors,
    GoValue,
    dict_at,
    int_at,
    list_at,
    nonnegative,
    str_at,
)
from kubelite.api.validation.storage import validate_claim_spec

POLICIES = ["OrderedReady", "Parallel"]
STRATEGIES = ["OnDelete", "RollingUpdate"]
RETENTION = ["Retain", "Delete"]
STS_UPDATE_FORBIDDEN = ("updates to statefulset spec for fields other than 'replicas', "
                        "'ordinals', 'template', 'updateStrategy', "
                        "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are "
                        "forbidden")
_MUTABLE = ("replicas", "ordinals", "template", "updateStrategy",
            "persistentVolumeClaimRetentionPolicy", "minReadySeconds")


def validate_stateful_set(obj: JSON, errs: Errors) -> None:
    """``ValidateStatefulSetSpec``."""
    spec = dict_at(obj, "spec")
    policy = spec.get("podManagementPolicy")
    if policy is not None and policy not in POLICIES:
        errs.not_supported("spec.podManagementPolicy", policy, POLICIES)
    strategy = dict_at(spec, "updateStrategy")
    stype = strategy.get("type")
    if stype is not None and stype not in STRATEGIES:
        errs.not_supported("spec.updateStrategy.type", stype, STRATEGIES)
    if stype == "OnDelete" and strategy.get("rollingUpdate") is not None:
        errs.invalid("spec.updateStrategy.rollingUpdate", GoValue("<nil>"),
                     "only allowed for updateStrategy 'RollingUpdate'")
    nonnegative(int_at(dict_at(strategy, "rollingUpdate"), "partition"),
                "spec.updateStrategy.rollingUpdate.partition", errs)
    retention = dict_at(spec, "persistentVolumeClaimRetentionPolicy")
    for key in ("whenDeleted", "whenScaled"):
        value = retention.get(key)
        if value is not None and value not in RETENTION:
            errs.not_supported(f"spec.persistentVolumeClaimRetentionPolicy.{key}", value,
                               RETENTION)
    nonnegative(int_at(spec, "replicas"), "spec.replicas", errs)
    nonnegative(int_at(spec, "minReadySeconds"), "spec.minReadySeconds", errs)
    nonnegative(int_at(dict_at(spec, "ordinals"), "start"), "spec.ordinals.start", errs)
    selector = spec.get("selector")
    if not isinstance(selector, dict):
        errs.required("spec.selector")
    else:
        apps.validate_selector_and_template(spec, "statefulset", errs)
    validate_pod_template(_with_claim_volumes(spec), "spec.template", errs)
    policy_value = dig(spec, "template", "spec", "restartPolicy")
    if policy_value is not None and policy_value != "Always":
        errs.not_supported("spec.template.spec.restartPolicy", policy_value, ["Always"])
    for i, claim in enumerate(list_at(spec, "volumeClaimTemplates")):
        path = f"spec.volumeClaimTemplates[{i}]"
        if not str_at(dict_at(claim, "metadata"), "name"):
            errs.required(f"{path}.metadata.name", "name or generateName is required")
        validate_claim_spec(dict_at(claim, "spec"), f"{path}.spec", errs)


def _with_claim_volumes(spec: JSON) -> Any:
    """The template as its pods get it: a volume for each claim template (mounts may
    name them)."""
    template = spec.get("template")
    names = [str_at(dict_at(t, "metadata"), "name")
             for t in list_at(spec, "volumeClaimTemplates")]
    pod_spec = dict_at(template, "spec")
    if not names or not pod_spec or not isinstance(template, dict):
        return template
    have = {str_at(v, "name") for v in list_at(pod_spec, "volumes")}
    extra = [{"name": n, "persistentVolumeClaim": {"claimName": n}}
             for n in names if n and n not in have]
    return {**template, "spec": {**pod_spec, "volumes": [*list_at(pod_spec, "volumes"), *extra]}}


def validate_stateful_set_update(new: JSON, old: JSON, errs: Errors) -> None:
    """Only the fields in ``_MUTABLE`` of the spec may change."""
    a = {k: v for k, v in dict_at(new, "spec").items() if k not in _MUTABLE}
    b = {k: v for k, v in dict_at(old, "spec").items() if k not in _MUTABLE}
    if a != b:
        errs.forbidden("spec", STS_UPDATE_FORBIDDEN)


def validate_controller_revision(obj: JSON, errs: Errors) -> None:
    revision = obj.get("revision")
    if isinstance(revision, int) and revision < 0:
        errs.invalid("revision", revision, "must be greater than or equal to 0")


def validate_controller_revision_update(new: JSON, old: JSON, errs: Errors) -> None:
    if new.get("data") != old.get("data"):
        errs.invalid("data", GoValue("<value omitted>"), FIELD_IMMUTABLE_MSG)


def _int_or_percent(value: Any, path: str, errs: Errors) -> None:
    if isinstance(value, bool):
        errs.invalid(path, value, "must be an integer or percentage (e.g '5%')")
    elif isinstance(value, int):
        nonnegative(value, path, errs)
    elif isinstance(value, str):
        digits = value[:-1]
        if not value.endswith("%") or not digits.isdigit():
            errs.invalid(path, value, "a valid percent string must be a numeric string "
                                      "followed by an ending '%' (e.g. '1%',  or '93%', "
                                      "regex used for validation is '[0-9]+%')")
        elif int(digits) > 100:
            errs.invalid(path, value, "must not be greater than 100%")


def validate_pod_disruption_budget(obj: JSON, errs: Errors) -> None:
    """``ValidatePodDisruptionBudgetSpec``."""
    spec = dict_at(obj, "spec")
    if "minAvailable" in spec and "maxUnavailable" in spec:
        errs.invalid("spec", GoValue(str(spec)), "minAvailable and maxUnavailable cannot be "
                                                 "both set")
    for key in ("minAvailable", "maxUnavailable"):
        if key in spec:
            _int_or_percent(spec[key], f"spec.{key}", errs)
    policy = spec.get("unhealthyPodEvictionPolicy")
    if policy is not None and policy not in ("IfHealthyBudget", "AlwaysAllow"):
        errs.not_supported("spec.unhealthyPodEvictionPolicy", policy,
                           ["AlwaysAllow", "IfHealthyBudget"])
    selector = spec.get("selector")
    if isinstance(selector, dict):
        apps.validate_label_selector(selector, "spec.selector", errs)

