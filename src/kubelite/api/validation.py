"""Object validation with kube-apiserver's field errors: reasons, messages and paths.

:func:`validate` returns the :class:`~kubelite.api.errors.Cause` list that kube-apiserver
would put in a 422 Invalid: each cause has a reason such as ``FieldValueRequired``, a
message such as ``Required value`` or ``Invalid value: "Bad_Name": a lowercase RFC 1123
subdomain must ...``, and a field path such as ``spec.containers[0].name``. The checks and
their order follow ``pkg/apis/*/validation`` (Kubernetes 1.32) for the rules kubelite
implements: object metadata (names, labels, annotations), pods (containers, ports,
volumes and mounts, policies), workloads (selector vs. template labels, replicas),
ConfigMap and Secret keys, Services' basic shape. Full OpenAPI schema checks live
elsewhere.

Objects are validated as the API server sees them after defaulting: fields that
Kubernetes defaults (restartPolicy, dnsPolicy, imagePullPolicy, protocol, ...) are only
checked when present.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from kubelite.api import errors, quantity
from kubelite.api._gofmt import go_quote, go_string_map
from kubelite.api.errors import Cause
from kubelite.api.names import (
    FIELD_IMMUTABLE_MSG,
    IS_NEGATIVE_MSG,
    is_config_map_key,
    is_dns1123_label,
    is_qualified_name,
    is_valid_label_value,
    is_valid_port_name,
    is_valid_port_num,
    name_is_dns1035_label,
    name_is_dns_label,
    name_is_dns_subdomain,
)
from kubelite.api.scheme import RESOURCES, Resource
from kubelite.api.selectors import label_selector_from_dict

JSON = dict[str, Any]
NameFn = Callable[[str, bool], list[str]]

TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024
MAX_SECRET_SIZE = 1024 * 1024

REQUIRED = "FieldValueRequired"
INVALID = "FieldValueInvalid"
DUPLICATE = "FieldValueDuplicate"
NOT_SUPPORTED = "FieldValueNotSupported"
FORBIDDEN = "FieldValueForbidden"
TOO_LONG = "FieldValueTooLong"
NOT_FOUND = "FieldValueNotFound"


# -- value rendering (field.Error.ErrorBody) ---------------------------------------------

class GoValue:
    """A value already spelled the way Go's fmt would print it in an error."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _show(value: Any) -> str:
    if isinstance(value, GoValue):
        return value.text
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, Mapping):
        return go_string_map({str(k): str(v) for k, v in value.items()})
    if isinstance(value, list):
        return "[]string{" + ", ".join(go_quote(str(v)) for v in value) + "}"
    return str(value)


def format_label_selector_struct(selector: Mapping[str, Any] | None) -> str:
    """A ``*metav1.LabelSelector`` as its generated ``String()`` prints it in errors."""
    if selector is None:
        return "nil"
    labels = selector.get("matchLabels") or {}
    exprs = selector.get("matchExpressions") or []
    ml = "".join(f"{k}: {v}," for k, v in sorted(labels.items()))
    parts = []
    for e in exprs:
        vals = " ".join(str(v) for v in (e.get("values") or []))
        parts.append(f"LabelSelectorRequirement{{Key:{e.get('key', '')},"
                     f"Operator:{e.get('operator', '')},Values:[{vals}],}},")
    return (f"&LabelSelector{{MatchLabels:map[string]string{{{ml}}},"
            f"MatchExpressions:[]LabelSelectorRequirement{{{''.join(parts)}}},}}")


class Errors:
    """An ordered ``field.ErrorList`` being built."""

    def __init__(self) -> None:
        self.causes: list[Cause] = []

    def _add(self, reason: str, path: str, body: str, detail: str) -> None:
        self.causes.append(Cause(reason, f"{body}: {detail}" if detail else body, path))

    def required(self, path: str, detail: str = "") -> None:
        self._add(REQUIRED, path, "Required value", detail)

    def invalid(self, path: str, value: Any, detail: str) -> None:
        self._add(INVALID, path, f"Invalid value: {_show(value)}", detail)

    def duplicate(self, path: str, value: Any) -> None:
        self._add(DUPLICATE, path, f"Duplicate value: {_show(value)}", "")

    def not_found(self, path: str, value: Any) -> None:
        self._add(NOT_FOUND, path, f"Not found: {_show(value)}", "")

    def not_supported(self, path: str, value: Any, valid: list[str]) -> None:
        detail = ("supported values: " + ", ".join(go_quote(v) for v in valid)) if valid else ""
        self._add(NOT_SUPPORTED, path, f"Unsupported value: {_show(value)}", detail)

    def forbidden(self, path: str, detail: str) -> None:
        self._add(FORBIDDEN, path, "Forbidden", detail)

    def too_long(self, path: str, max_bytes: int) -> None:
        unit = "byte" if max_bytes == 1 else "bytes"
        self._add(TOO_LONG, path, "Too long", f"may not be more than {max_bytes} {unit}")


# -- helpers ---------------------------------------------------------------------------

def _d(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else None


def _dict(obj: Any, key: str) -> JSON:
    v = _d(obj, key)
    return v if isinstance(v, dict) else {}


def _list(obj: Any, key: str) -> list[Any]:
    v = _d(obj, key)
    return v if isinstance(v, list) else []


def _str(obj: Any, key: str) -> str:
    v = _d(obj, key)
    return v if isinstance(v, str) else ("" if v is None else str(v))


def _int(obj: Any, key: str) -> int | None:
    v = _d(obj, key)
    return v if isinstance(v, int) and not isinstance(v, bool) else None


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


def _validate_nonnegative(value: int | None, path: str, errs: Errors) -> None:
    if value is not None and value < 0:
        errs.invalid(path, value, IS_NEGATIVE_MSG)


def _validate_dns1123_label(value: str, path: str, errs: Errors) -> None:
    for msg in is_dns1123_label(value):
        errs.invalid(path, value, msg)


# -- object metadata ---------------------------------------------------------------------

def validate_object_meta(meta: Any, namespaced: bool, name_fn: NameFn, errs: Errors,
                         path: str = "metadata") -> None:
    """``ValidateObjectMeta``: names, namespace, labels, annotations, owner references."""
    meta = meta if isinstance(meta, dict) else {}
    generate_name = _str(meta, "generateName")
    if generate_name:
        for msg in name_fn(generate_name, True):
            errs.invalid(f"{path}.generateName", generate_name, msg)
    name = _str(meta, "name")
    if not name:
        if not generate_name:
            errs.required(f"{path}.name", "name or generateName is required")
    else:
        for msg in name_fn(name, False):
            errs.invalid(f"{path}.name", name, msg)
    namespace = _str(meta, "namespace")
    if namespaced:
        if not namespace:
            errs.required(f"{path}.namespace")
        else:
            for msg in name_is_dns_label(namespace, False):
                errs.invalid(f"{path}.namespace", namespace, msg)
    elif namespace:
        errs.forbidden(f"{path}.namespace", "not allowed on this type")
    _validate_nonnegative(_int(meta, "generation"), f"{path}.generation", errs)
    validate_labels(meta.get("labels"), f"{path}.labels", errs)
    validate_annotations(meta.get("annotations"), f"{path}.annotations", errs)
    for i, ref in enumerate(_list(meta, "ownerReferences")):
        rpath = f"{path}.ownerReferences[{i}]"
        api_version = _str(ref, "apiVersion")
        if not api_version.rpartition("/")[2]:
            errs.invalid(f"{rpath}.apiVersion", api_version, "version must not be empty")
        if not _str(ref, "kind"):
            errs.invalid(f"{rpath}.kind", _str(ref, "kind"), "kind must not be empty")
        if not _str(ref, "name"):
            errs.invalid(f"{rpath}.name", _str(ref, "name"), "name must not be empty")
        if not _str(ref, "uid"):
            errs.invalid(f"{rpath}.uid", _str(ref, "uid"), "uid must not be empty")


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


# -- pods ------------------------------------------------------------------------------

_VOLUME_SOURCES = (
    "emptyDir", "hostPath", "gitRepo", "gcePersistentDisk", "awsElasticBlockStore", "secret",
    "nfs", "iscsi", "glusterfs", "flocker", "persistentVolumeClaim", "rbd", "cinder",
    "cephfs", "quobyte", "downwardAPI", "fc", "flexVolume", "configMap", "azureFile",
    "vsphereVolume", "photonPersistentDisk", "portworxVolume", "azureDisk", "storageos",
    "projected", "scaleIO", "csi", "ephemeral", "image",
)
_SOURCE_REQUIRED = {
    "hostPath": "path", "secret": "secretName", "configMap": "name",
    "persistentVolumeClaim": "claimName", "nfs": "server",
}
_RESTART_POLICIES = ["Always", "OnFailure", "Never"]
_DNS_POLICIES = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"]
_PULL_POLICIES = ["Always", "IfNotPresent", "Never"]
_PROTOCOLS = ["SCTP", "TCP", "UDP"]


def _validate_volumes(volumes: list[Any], path: str, errs: Errors) -> set[str]:
    """``ValidateVolumes``: returns the names of the volumes that are valid."""
    names: set[str] = set()
    for i, vol in enumerate(volumes):
        vpath = f"{path}[{i}]"
        local = Errors()
        found = 0
        for source in _VOLUME_SOURCES:
            if not isinstance(_d(vol, source), dict):
                continue
            if found:
                local.forbidden(f"{vpath}.{source}", "may not specify more than 1 volume type")
                continue
            found += 1
            required = _SOURCE_REQUIRED.get(source)
            if required and not _str(_d(vol, source), required):
                local.required(f"{vpath}.{source}.{required}")
        name = _str(vol, "name")
        if not name:
            local.required(f"{vpath}.name")
        else:
            _validate_dns1123_label(name, f"{vpath}.name", local)
        if name in names:
            local.duplicate(f"{vpath}.name", name)
        if local.causes:
            errs.causes.extend(local.causes)
        else:
            names.add(name)
    return names


def _validate_ports(ports: list[Any], path: str, errs: Errors) -> None:
    names: set[str] = set()
    for i, port in enumerate(ports):
        ppath = f"{path}[{i}]"
        name = _str(port, "name")
        if name:
            msgs = is_valid_port_name(name)
            for msg in msgs:
                errs.invalid(f"{ppath}.name", name, msg)
            if not msgs:
                if name in names:
                    errs.duplicate(f"{ppath}.name", name)
                names.add(name)
        container_port = _int(port, "containerPort") or 0
        if container_port == 0:
            errs.required(f"{ppath}.containerPort")
        else:
            for msg in is_valid_port_num(container_port):
                errs.invalid(f"{ppath}.containerPort", container_port, msg)
        host_port = _int(port, "hostPort") or 0
        if host_port:
            for msg in is_valid_port_num(host_port):
                errs.invalid(f"{ppath}.hostPort", host_port, msg)
        protocol = _d(port, "protocol")
        if protocol is not None:
            if protocol == "":
                errs.required(f"{ppath}.protocol")
            elif protocol not in _PROTOCOLS:
                errs.not_supported(f"{ppath}.protocol", protocol, _PROTOCOLS)


def _validate_mounts(mounts: list[Any], volumes: set[str], path: str, errs: Errors) -> None:
    points: set[str] = set()
    for i, mount in enumerate(mounts):
        mpath = f"{path}[{i}]"
        name = _str(mount, "name")
        if not name:
            errs.required(f"{mpath}.name")
        if name not in volumes:
            errs.not_found(f"{mpath}.name", name)
        mount_path = _str(mount, "mountPath")
        if not mount_path:
            errs.required(f"{mpath}.mountPath")
        if mount_path in points:
            errs.invalid(f"{mpath}.mountPath", mount_path, "must be unique")
        points.add(mount_path)


_ENV_NAME = re.compile(r"^[\x20-\x3c\x3e-\x7e]+$")
_PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")


def _validate_probe(probe: JSON, kind: str, path: str, errs: Errors) -> None:
    """One handler, non-negative timings, successThreshold 1 for liveness and startup."""
    handlers = [h for h in _PROBE_HANDLERS if _d(probe, h) is not None]
    if not handlers:
        errs.required(path, "must specify a handler type")
    elif len(handlers) > 1:
        errs.forbidden(f"{path}.{handlers[1]}", "may not specify more than 1 handler type")
    for field in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds",
                  "successThreshold", "failureThreshold"):
        _validate_nonnegative(_int(probe, field), f"{path}.{field}", errs)
    success = _int(probe, "successThreshold")
    if kind != "readinessProbe" and success is not None and success != 1:
        errs.invalid(f"{path}.successThreshold", success, "must be 1")


def _validate_resources(resources: JSON, path: str, errs: Errors) -> None:
    """Requests may not exceed limits (quantities are checked when decoding)."""
    limits = resources.get("limits") if isinstance(resources.get("limits"), dict) else {}
    requests = resources.get("requests") if isinstance(resources.get("requests"), dict) else {}
    for name, request in (requests or {}).items():
        limit = (limits or {}).get(name)
        if limit is None:
            continue
        try:
            if quantity.parse_quantity(request) > quantity.parse_quantity(limit):
                errs.invalid(f"{path}.requests", str(request),
                             f"must be less than or equal to {name} limit of {limit}")
        except ValueError:
            continue


def check_quantities(obj: JSON, kind: str) -> None:
    """Resource quantities that do not parse make the body undecodable: 400, as
    kube-apiserver's decoder answers."""
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else None
    if spec is not None and isinstance(spec.get("template"), dict):
        spec = spec["template"].get("spec")
    if not isinstance(spec, dict):
        return
    for group in ("initContainers", "containers"):
        for ctr in spec.get(group) or []:
            resources = ctr.get("resources") if isinstance(ctr, dict) else None
            for part in ("limits", "requests"):
                values = (resources or {}).get(part)
                for value in (values or {}).values() if isinstance(values, dict) else ():
                    if isinstance(value, bool) or quantity.parse(str(value)) is None:
                        raise errors.bad_request(
                            f'{kind} in version "{obj.get("apiVersion", "")}" cannot be '
                            "handled as a " + kind + ": quantities must match the regular "
                            "expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")


def _validate_container_common(ctr: Any, volumes: set[str], path: str, errs: Errors) -> None:
    name = _str(ctr, "name")
    if not name:
        errs.required(f"{path}.name")
    else:
        _validate_dns1123_label(name, f"{path}.name", errs)
    if not _str(ctr, "image"):
        errs.required(f"{path}.image")
    pull = _d(ctr, "imagePullPolicy")
    if pull is not None and pull != "" and pull not in _PULL_POLICIES:
        errs.not_supported(f"{path}.imagePullPolicy", pull, _PULL_POLICIES)
    _validate_ports(_list(ctr, "ports"), f"{path}.ports", errs)
    for i, env in enumerate(_list(ctr, "env")):
        env_name = _str(env, "name")
        if not env_name:
            errs.required(f"{path}.env[{i}].name")
        elif not _ENV_NAME.match(env_name):
            errs.invalid(f"{path}.env[{i}].name", env_name,
                         "a valid environment variable name must consist only of printable "
                         "ASCII characters other than '='")
    _validate_resources(_dict(ctr, "resources"), f"{path}.resources", errs)
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        if isinstance(_d(ctr, probe), dict):
            _validate_probe(_dict(ctr, probe), probe, f"{path}.{probe}", errs)
    _validate_mounts(_list(ctr, "volumeMounts"), volumes, f"{path}.volumeMounts", errs)


def validate_pod_spec(spec: Any, path: str, errs: Errors) -> None:
    """``ValidatePodSpec`` (the parts kubelite implements), in Kubernetes' order."""
    spec = spec if isinstance(spec, dict) else {}
    volumes = _validate_volumes(_list(spec, "volumes"), f"{path}.volumes", errs)

    containers = _list(spec, "containers")
    cpath = f"{path}.containers"
    if not containers:
        errs.required(cpath)
    else:
        seen: set[str] = set()
        for i, ctr in enumerate(containers):
            _validate_container_common(ctr, volumes, f"{cpath}[{i}]", errs)
            name = _str(ctr, "name")
            if name in seen:
                errs.duplicate(f"{cpath}[{i}].name", name)
            else:
                seen.add(name)

    all_names = {_str(c, "name") for c in containers}
    ipath = f"{path}.initContainers"
    for i, ctr in enumerate(_list(spec, "initContainers")):
        _validate_container_common(ctr, volumes, f"{ipath}[{i}]", errs)
        policy = _d(ctr, "restartPolicy")
        if policy is not None and policy != "Always":
            errs.not_supported(f"{ipath}[{i}].restartPolicy", policy, ["Always"])
        name = _str(ctr, "name")
        if name in all_names:
            errs.duplicate(f"{ipath}[{i}].name", name)
        elif name:
            all_names.add(name)

    restart = _d(spec, "restartPolicy")
    if restart is not None and restart != "" and restart not in _RESTART_POLICIES:
        errs.not_supported(f"{path}.restartPolicy", restart, _RESTART_POLICIES)
    dns = _d(spec, "dnsPolicy")
    if dns is not None and dns != "" and dns not in _DNS_POLICIES:
        errs.not_supported(f"{path}.dnsPolicy", dns, _DNS_POLICIES)
    validate_labels(_d(spec, "nodeSelector"), f"{path}.nodeSelector", errs)
    account = _str(spec, "serviceAccountName")
    if account:
        for msg in name_is_dns_subdomain(account, False):
            errs.invalid(f"{path}.serviceAccountName", account, msg)
    node = _str(spec, "nodeName")
    if node:
        for msg in name_is_dns_subdomain(node, False):
            errs.invalid(f"{path}.nodeName", node, msg)
    deadline = _int(spec, "activeDeadlineSeconds")
    if deadline is not None and not 1 <= deadline <= 2**31 - 1:
        errs.invalid(f"{path}.activeDeadlineSeconds", deadline,
                     "must be between 1 and 2147483647, inclusive")
    hostname = _str(spec, "hostname")
    if hostname:
        _validate_dns1123_label(hostname, f"{path}.hostname", errs)
    subdomain = _str(spec, "subdomain")
    if subdomain:
        _validate_dns1123_label(subdomain, f"{path}.subdomain", errs)


def validate_pod_template(template: Any, path: str, errs: Errors) -> None:
    """``ValidatePodTemplateSpec``: template labels, annotations and pod spec."""
    if not isinstance(template, dict):
        errs.required(path)
        return
    meta = _dict(template, "metadata")
    validate_labels(meta.get("labels"), f"{path}.labels", errs)
    validate_annotations(meta.get("annotations"), f"{path}.annotations", errs)
    validate_pod_spec(template.get("spec"), f"{path}.spec", errs)
    if _list(template.get("spec"), "ephemeralContainers"):
        errs.forbidden(f"{path}.spec.ephemeralContainers",
                       "ephemeral containers not allowed in pod template")


POD_UPDATABLE_FIELDS = (
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously "
    "negative)",
)


def _spec_diff(old: Any, new: Any, path: str, out: list[str]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for k in sorted(set(old) | set(new)):
            _spec_diff(old.get(k), new.get(k), f"{path}.{k}", out)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            _spec_diff(a, b, f"{path}[{i}]", out)
    elif old != new:
        out.append(f"  {path}: {_json(old)} -> {_json(new)}")


def _json(v: Any) -> str:
    return "<unset>" if v is None else json.dumps(v, sort_keys=True)


def _validate_pod_update(new: JSON, old: JSON, errs: Errors) -> None:
    """Pods are immutable but for images, deadlines, added tolerations and grace period."""
    new_spec = _dict(new, "spec")
    old_spec = _dict(old, "spec")
    munged = dict(new_spec)
    for key in ("containers", "initContainers"):
        if key not in new_spec:
            continue
        olds = _list(old_spec, key)
        news = _list(new_spec, key)
        if len(olds) == len(news):
            munged[key] = [
                {**c, "image": o.get("image")} if isinstance(c, dict) and isinstance(o, dict)
                and "image" in o else c
                for c, o in zip(news, olds, strict=True)
            ]
    new_deadline = _int(new_spec, "activeDeadlineSeconds")
    old_deadline = _int(old_spec, "activeDeadlineSeconds")
    if new_deadline is not None and (old_deadline is None or new_deadline <= old_deadline):
        _copy_key(munged, old_spec, "activeDeadlineSeconds")
    old_tol = _list(old_spec, "tolerations")
    if all(t in _list(new_spec, "tolerations") for t in old_tol):
        _copy_key(munged, old_spec, "tolerations")
    old_grace = _int(old_spec, "terminationGracePeriodSeconds")
    if old_grace is not None and old_grace < 0 and _int(new_spec,
                                                        "terminationGracePeriodSeconds") == 1:
        _copy_key(munged, old_spec, "terminationGracePeriodSeconds")
    if _zeroless(munged) != _zeroless(old_spec):
        diff: list[str] = []
        _spec_diff(_zeroless(old_spec), _zeroless(munged), "spec", diff)
        errs.forbidden("spec", "pod updates may not change fields other than "
                       + ",".join(POD_UPDATABLE_FIELDS) + "\n" + "\n".join(diff))


def _zeroless(value: Any) -> Any:
    """Drop unset and zero values: Go compares structs where absent means zero."""
    if isinstance(value, dict):
        out = {k: _zeroless(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, "", 0, False, [], {})}
    if isinstance(value, list):
        return [_zeroless(v) for v in value]
    return value


def _copy_key(dst: JSON, src: JSON, key: str) -> None:
    if key in src:
        dst[key] = src[key]
    else:
        dst.pop(key, None)


# -- workloads -------------------------------------------------------------------------

def _validate_label_selector(selector: Any, path: str, errs: Errors) -> None:
    """``ValidateLabelSelector`` (strict values)."""
    if not isinstance(selector, dict):
        return
    validate_labels(selector.get("matchLabels"), f"{path}.matchLabels", errs)
    for i, expr in enumerate(_list(selector, "matchExpressions")):
        epath = f"{path}.matchExpressions[{i}]"
        op = _str(expr, "operator")
        values = _list(expr, "values")
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
        key = _str(expr, "key")
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
    labels = _dict(_dict(spec, "template"), "metadata").get("labels")
    if not sel.empty and not sel.matches(labels if isinstance(labels, dict) else None):
        errs.invalid(f"{path}.template.metadata.labels",
                     GoValue(go_string_map(labels if isinstance(labels, dict) else None)),
                     "`selector` does not match template `labels`")
    return True


def _empty_selector(selector: Any) -> bool:
    return isinstance(selector, dict) and not (selector.get("matchLabels")
                                               or selector.get("matchExpressions"))


def _validate_replicated_spec(obj: JSON, kind_word: str, errs: Errors) -> None:
    """Deployments and ReplicaSets (``ValidateDeploymentSpec`` / ``ValidateReplicaSetSpec``)."""
    spec = _dict(obj, "spec")
    path = "spec"
    _validate_nonnegative(_int(spec, "replicas"), f"{path}.replicas", errs)
    if kind_word == "replicaset":
        _validate_nonnegative(_int(spec, "minReadySeconds"), f"{path}.minReadySeconds", errs)
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
        _validate_nonnegative(_int(spec, "minReadySeconds"), f"{path}.minReadySeconds", errs)
        _validate_nonnegative(_int(spec, "revisionHistoryLimit"),
                              f"{path}.revisionHistoryLimit", errs)
        strategy = _dict(spec, "strategy")
        stype = _d(strategy, "type")
        if stype is not None and stype not in ("Recreate", "RollingUpdate"):
            errs.not_supported(f"{path}.strategy.type", stype, ["Recreate", "RollingUpdate"])


def _template_restart_always(template: Any, path: str, kind_word: str, errs: Errors) -> None:
    spec = _dict(template, "spec")
    policy = _d(spec, "restartPolicy")
    if policy is not None and policy != "Always":
        errs.not_supported(f"{path}.spec.restartPolicy", policy, ["Always"])
    deadline = _d(spec, "activeDeadlineSeconds")
    if deadline is not None:
        if kind_word == "daemonset":
            errs.forbidden(f"{path}.spec.activeDeadlineSeconds",
                           "activeDeadlineSeconds in DaemonSet is not Supported")
        else:
            errs.invalid(f"{path}.spec.activeDeadlineSeconds", deadline,
                         "activeDeadlineSeconds in ReplicaSet is not Supported")


def _validate_daemonset_spec(obj: JSON, errs: Errors) -> None:
    spec = _dict(obj, "spec")
    selector = spec.get("selector")
    # Unlike Deployments and ReplicaSets, a missing selector is reported only as the
    # template mismatch below (a nil selector matches nothing).
    _validate_label_selector(selector, "spec.selector", errs)
    try:
        sel = label_selector_from_dict(selector if isinstance(selector, dict) else None)
    except errors.StatusError:
        sel = None
    labels = _dict(_dict(spec, "template"), "metadata").get("labels")
    if sel is not None and not sel.matches(labels if isinstance(labels, dict) else None):
        errs.invalid("spec.template.metadata.labels",
                     GoValue(go_string_map(labels if isinstance(labels, dict) else None)),
                     "`selector` does not match template `labels`")
    if _empty_selector(selector):
        errs.invalid("spec.selector", GoValue(format_label_selector_struct(selector)),
                     "empty selector is invalid for daemonset")
    validate_pod_template(spec.get("template"), "spec.template", errs)
    _template_restart_always(spec.get("template"), "spec.template", "daemonset", errs)
    _validate_nonnegative(_int(spec, "minReadySeconds"), "spec.minReadySeconds", errs)
    strategy = _dict(spec, "updateStrategy")
    stype = _d(strategy, "type")
    if stype is not None and stype not in ("OnDelete", "RollingUpdate"):
        errs.not_supported("spec.updateStrategy.type", stype, ["OnDelete", "RollingUpdate"])


def _validate_selector_immutable(new: JSON, old: JSON, errs: Errors) -> None:
    new_sel = _dict(new, "spec").get("selector")
    old_sel = _dict(old, "spec").get("selector")
    if new_sel != old_sel:
        errs.invalid("spec.selector", GoValue(format_label_selector_struct(
            new_sel if isinstance(new_sel, dict) else None)), FIELD_IMMUTABLE_MSG)


# -- configuration ---------------------------------------------------------------------

def _b64_len(value: Any) -> int:
    if not isinstance(value, str):
        return 0
    try:
        return len(base64.b64decode(value, validate=False))
    except (binascii.Error, ValueError):
        return len(value)


def _validate_config_map(obj: JSON, errs: Errors) -> None:
    data = _dict(obj, "data")
    binary = _dict(obj, "binaryData")
    total = 0
    for key in sorted(data):
        for msg in is_config_map_key(key):
            errs.invalid(f"data[{key}]", key, msg)
        if key in binary:
            errs.invalid(f"data[{key}]", key, "duplicate of key present in binaryData")
        total += len(str(data[key] or "").encode())
    for key in sorted(binary):
        for msg in is_config_map_key(key):
            errs.invalid(f"binaryData[{key}]", key, msg)
        total += _b64_len(binary[key])
    if total > MAX_SECRET_SIZE:
        errs.too_long("", MAX_SECRET_SIZE)


def _validate_secret(obj: JSON, errs: Errors) -> None:
    data = _dict(obj, "data")
    string_data = _dict(obj, "stringData")
    keys = set(data) | set(string_data)
    total = 0
    for key in sorted(keys):
        for msg in is_config_map_key(key):
            errs.invalid(f"data[{key}]", key, msg)
        if key in string_data:
            total += len(str(string_data[key] or "").encode())
        else:
            total += _b64_len(data[key])
    if total > MAX_SECRET_SIZE:
        errs.too_long("data", MAX_SECRET_SIZE)
    kind = _str(obj, "type")
    if kind == "kubernetes.io/service-account-token":
        annotations = _dict(_dict(obj, "metadata"), "annotations")
        if not annotations.get("kubernetes.io/service-account.name"):
            errs.required("metadata.annotations[kubernetes.io/service-account.name]")
    elif kind == "kubernetes.io/dockercfg":
        if ".dockercfg" not in keys:
            errs.required("data[.dockercfg]")
    elif kind == "kubernetes.io/dockerconfigjson":
        if ".dockerconfigjson" not in keys:
            errs.required("data[.dockerconfigjson]")
    elif kind == "kubernetes.io/basic-auth":
        if "username" not in keys and "password" not in keys:
            errs.required("data[username]")
            errs.required("data[password]")
    elif kind == "kubernetes.io/ssh-auth":
        if "ssh-privatekey" not in keys:
            errs.required("data[ssh-privatekey]")
    elif kind == "kubernetes.io/tls":
        if "tls.crt" not in keys:
            errs.required("data[tls.crt]")
        if "tls.key" not in keys:
            errs.required("data[tls.key]")


def _validate_event(obj: JSON, new_api: bool, errs: Errors) -> None:
    """``legacyValidateEvent``: namespaces agree; new-style events name their reporter.

    ``new_api`` is true for events.k8s.io/v1 objects (``regarding``, ``note``,
    ``reportingController``); core/v1 spells them ``involvedObject``, ``message`` and
    ``reportingComponent``.
    """
    namespace = _str(_dict(obj, "metadata"), "namespace")
    ref_name = "regarding" if new_api else "involvedObject"
    ref = _dict(obj, ref_name)
    ref_ns = _str(ref, "namespace")
    controller_field = "reportingController" if new_api else "reportingComponent"
    controller = _str(obj, controller_field) or _str(obj, "reportingController")
    message_field = "note" if new_api else "message"
    ns_path = f"{ref_name}.namespace"
    if not _d(obj, "eventTime"):
        if not ref_ns:
            if namespace not in ("", "default"):
                errs.invalid(ns_path, ref_ns, "does not match event.namespace")
        elif namespace != ref_ns:
            errs.invalid(ns_path, ref_ns, "does not match event.namespace")
    else:
        if not ref_ns and namespace not in ("default", "kube-system"):
            errs.invalid(ns_path, ref_ns, "does not match event.namespace")
        if not controller:
            errs.required(controller_field)
        for msg in is_qualified_name(controller):
            errs.invalid(controller_field, controller, msg)
        instance = _str(obj, "reportingInstance")
        if not instance:
            errs.required("reportingInstance")
        if len(instance) > 128:
            errs.invalid("reportingInstance", "", "can have at most 128 characters")
        action = _str(obj, "action")
        if not action:
            errs.required("action")
        if len(action) > 128:
            errs.invalid("action", "", "can have at most 128 characters")
        reason = _str(obj, "reason")
        if not reason:
            errs.required("reason")
        if len(reason) > 128:
            errs.invalid("reason", "", "can have at most 128 characters")
        if len(_str(obj, message_field)) > 1024:
            errs.invalid(message_field, "", "can have at most 1024 characters")


_IMMUTABLE_SET = "field is immutable when `immutable` is set"


def _validate_immutable_data(new: JSON, old: JSON, fields: tuple[str, ...],
                             errs: Errors) -> None:
    """ConfigMaps and Secrets marked ``immutable: true`` keep their data."""
    if old.get("immutable") is not True:
        return
    if new.get("immutable") is not True:
        errs.forbidden("immutable", _IMMUTABLE_SET)
    for name in fields:
        if (new.get(name) or {}) != (old.get(name) or {}):
            errs.forbidden(name, _IMMUTABLE_SET)


def _secret_data(obj: JSON) -> JSON:
    """Secret data with stringData folded in (as the API stores it)."""
    data = dict(_dict(obj, "data"))
    for k, v in _dict(obj, "stringData").items():
        data[k] = base64.b64encode(str(v).encode()).decode()
    return data


_SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]


def _validate_service(obj: JSON, errs: Errors) -> None:
    spec = _dict(obj, "spec")
    stype = _d(spec, "type")
    if stype is not None and stype not in _SERVICE_TYPES:
        errs.not_supported("spec.type", stype, _SERVICE_TYPES)
    ports = _list(spec, "ports")
    headless = _str(spec, "clusterIP") == "None"
    if not ports and not headless and stype != "ExternalName":
        errs.required("spec.ports")
    if stype == "ExternalName" and not _str(spec, "externalName"):
        errs.required("spec.externalName")
    names: set[str] = set()
    for i, port in enumerate(ports):
        ppath = f"spec.ports[{i}]"
        name = _str(port, "name")
        if len(ports) > 1 and not name:
            errs.required(f"{ppath}.name")
        elif name:
            _validate_dns1123_label(name, f"{ppath}.name", errs)
            if name in names:
                errs.duplicate(f"{ppath}.name", name)
            names.add(name)
        number = _int(port, "port") or 0
        for msg in is_valid_port_num(number):
            errs.invalid(f"{ppath}.port", number, msg)
        protocol = _d(port, "protocol")
        if protocol is not None and protocol not in _PROTOCOLS:
            errs.not_supported(f"{ppath}.protocol", protocol, _PROTOCOLS)
        target = _d(port, "targetPort")
        if isinstance(target, int) and not isinstance(target, bool) and target != 0:
            for msg in is_valid_port_num(target):
                errs.invalid(f"{ppath}.targetPort", target, msg)
        elif isinstance(target, str) and target:
            for msg in is_valid_port_name(target):
                errs.invalid(f"{ppath}.targetPort", target, msg)
    validate_labels(_d(spec, "selector"), "spec.selector", errs)


# -- entry points ----------------------------------------------------------------------

_NAME_FNS: dict[str, NameFn] = {
    "namespaces": name_is_dns_label,
    "services": name_is_dns1035_label,
}

_BY_PLURAL: dict[str, Resource] = {}
for _r in RESOURCES:
    _BY_PLURAL.setdefault(_r.plural, _r)


def _resource(resource: Resource | str) -> tuple[str, bool]:
    if isinstance(resource, Resource):
        return resource.plural, resource.namespaced
    known = _BY_PLURAL.get(resource)
    return resource, (known.namespaced if known is not None else True)


def validate(resource: Resource | str, obj: JSON, old: JSON | None = None,
             subresource: str | None = None) -> list[Cause]:
    """The causes kube-apiserver would give for ``obj`` (empty when it is valid).

    ``resource`` is a :class:`~kubelite.api.scheme.Resource` or its plural. Pass ``old``
    on update: immutable fields (metadata.name/namespace/uid, pod specs apart from
    images and the other updatable fields, workload selectors) are then checked too,
    except for writes to ``subresource`` (status, binding), which do not touch the spec.
    Call it after the server has set metadata.namespace (and the name from
    generateName).
    """
    plural, namespaced = _resource(resource)
    errs = Errors()
    validate_object_meta(obj.get("metadata"), namespaced,
                         _NAME_FNS.get(plural, name_is_dns_subdomain), errs)
    if old is not None:
        validate_object_meta_update(obj.get("metadata"), old.get("metadata"), errs)
    if plural == "pods":
        validate_pod_spec(obj.get("spec"), "spec", errs)
        if old is not None and subresource is None:
            _validate_pod_update(obj, old, errs)
    elif plural in ("deployments", "replicasets"):
        _validate_replicated_spec(obj, plural[:-1], errs)
        if old is not None:
            _validate_selector_immutable(obj, old, errs)
    elif plural == "daemonsets":
        _validate_daemonset_spec(obj, errs)
        if old is not None:
            _validate_selector_immutable(obj, old, errs)
    elif plural == "configmaps":
        _validate_config_map(obj, errs)
        if old is not None:
            _validate_immutable_data(obj, old, ("data", "binaryData"), errs)
    elif plural == "secrets":
        _validate_secret(obj, errs)
        if old is not None:
            old_type, new_type = _str(old, "type") or "Opaque", _str(obj, "type") or "Opaque"
            if new_type != old_type:
                errs.invalid("type", new_type, FIELD_IMMUTABLE_MSG)
            _validate_immutable_data({**obj, "data": _secret_data(obj)},
                                     {**old, "data": _secret_data(old)}, ("data",), errs)
    elif plural == "services":
        _validate_service(obj, errs)
    elif plural == "events":
        new_api = "regarding" in obj or "note" in obj or (
            isinstance(resource, Resource) and resource.group == "events.k8s.io"
            and "involvedObject" not in obj)
        _validate_event(obj, new_api, errs)
    return errs.causes


def invalid_status(resource: Resource | str, obj: JSON, causes: list[Cause],
                   kind: str | None = None, group: str | None = None) -> errors.StatusError:
    """The 422 Invalid error for ``causes`` (what kubectl prints as ``The Pod "x" is ...``)."""
    if isinstance(resource, Resource):
        kind = kind or resource.kind
        group = resource.group if group is None else group
    name = str((obj.get("metadata") or {}).get("name") or "")
    return errors.invalid(kind or str(obj.get("kind") or ""), name, causes, group or "")


def check(resource: Resource | str, obj: JSON, old: JSON | None = None,
          subresource: str | None = None) -> None:
    """Raise :func:`invalid_status` when :func:`validate` finds anything."""
    causes = validate(resource, obj, old, subresource)
    if causes:
        raise invalid_status(resource, obj, causes)
