"""core/v1 validation (``pkg/apis/core/validation``): pods, config, events, services.

The entry points (``validate_pod``, ``validate_pod_update``, ``validate_config_map``, ...)
are what the kinds' strategies call after object metadata has been checked; each appends
to an :class:`~kubelite.api.validation.field.Errors` in Kubernetes' order. Fields that
Kubernetes defaults are only checked when present.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from kubelite.api import errors, quantity
from kubelite.api.meta import JSON, dig
from kubelite.api.names import (
    FIELD_IMMUTABLE_MSG,
    is_config_map_key,
    is_qualified_name,
    is_valid_port_name,
    is_valid_port_num,
    name_is_dns_subdomain,
)
from kubelite.api.validation import ephemeral
from kubelite.api.validation.field import (
    Errors,
    dict_at,
    dns1123_label,
    int_at,
    list_at,
    nonnegative,
    str_at,
)
from kubelite.api.validation.objectmeta import validate_annotations, validate_labels

MAX_SECRET_SIZE = 1024 * 1024


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
            if not isinstance(dig(vol, source), dict):
                continue
            if found:
                local.forbidden(f"{vpath}.{source}", "may not specify more than 1 volume type")
                continue
            found += 1
            required = _SOURCE_REQUIRED.get(source)
            if required and not str_at(dig(vol, source), required):
                local.required(f"{vpath}.{source}.{required}")
        name = str_at(vol, "name")
        if not name:
            local.required(f"{vpath}.name")
        else:
            dns1123_label(name, f"{vpath}.name", local)
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
        name = str_at(port, "name")
        if name:
            msgs = is_valid_port_name(name)
            for msg in msgs:
                errs.invalid(f"{ppath}.name", name, msg)
            if not msgs:
                if name in names:
                    errs.duplicate(f"{ppath}.name", name)
                names.add(name)
        container_port = int_at(port, "containerPort") or 0
        if container_port == 0:
            errs.required(f"{ppath}.containerPort")
        else:
            for msg in is_valid_port_num(container_port):
                errs.invalid(f"{ppath}.containerPort", container_port, msg)
        host_port = int_at(port, "hostPort") or 0
        if host_port:
            for msg in is_valid_port_num(host_port):
                errs.invalid(f"{ppath}.hostPort", host_port, msg)
        protocol = dig(port, "protocol")
        if protocol is not None:
            if protocol == "":
                errs.required(f"{ppath}.protocol")
            elif protocol not in _PROTOCOLS:
                errs.not_supported(f"{ppath}.protocol", protocol, _PROTOCOLS)


def _validate_mounts(mounts: list[Any], volumes: set[str], path: str, errs: Errors) -> None:
    points: set[str] = set()
    for i, mount in enumerate(mounts):
        mpath = f"{path}[{i}]"
        name = str_at(mount, "name")
        if not name:
            errs.required(f"{mpath}.name")
        if name not in volumes:
            errs.not_found(f"{mpath}.name", name)
        mount_path = str_at(mount, "mountPath")
        if not mount_path:
            errs.required(f"{mpath}.mountPath")
        if mount_path in points:
            errs.invalid(f"{mpath}.mountPath", mount_path, "must be unique")
        points.add(mount_path)


_ENV_NAME = re.compile(r"^[\x20-\x3c\x3e-\x7e]+$")
_PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")


def _validate_probe(probe: JSON, kind: str, path: str, errs: Errors) -> None:
    """One handler, non-negative timings, successThreshold 1 for liveness and startup."""
    handlers = [h for h in _PROBE_HANDLERS if dig(probe, h) is not None]
    if not handlers:
        errs.required(path, "must specify a handler type")
    elif len(handlers) > 1:
        errs.forbidden(f"{path}.{handlers[1]}", "may not specify more than 1 handler type")
    for field in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds",
                  "successThreshold", "failureThreshold"):
        nonnegative(int_at(probe, field), f"{path}.{field}", errs)
    success = int_at(probe, "successThreshold")
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
    name = str_at(ctr, "name")
    if not name:
        errs.required(f"{path}.name")
    else:
        dns1123_label(name, f"{path}.name", errs)
    if not str_at(ctr, "image"):
        errs.required(f"{path}.image")
    pull = dig(ctr, "imagePullPolicy")
    if pull is not None and pull != "" and pull not in _PULL_POLICIES:
        errs.not_supported(f"{path}.imagePullPolicy", pull, _PULL_POLICIES)
    _validate_ports(list_at(ctr, "ports"), f"{path}.ports", errs)
    for i, env in enumerate(list_at(ctr, "env")):
        env_name = str_at(env, "name")
        if not env_name:
            errs.required(f"{path}.env[{i}].name")
        elif not _ENV_NAME.match(env_name):
            errs.invalid(f"{path}.env[{i}].name", env_name,
                         "a valid environment variable name must consist only of printable "
                         "ASCII characters other than '='")
    _validate_resources(dict_at(ctr, "resources"), f"{path}.resources", errs)
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        if isinstance(dig(ctr, probe), dict):
            _validate_probe(dict_at(ctr, probe), probe, f"{path}.{probe}", errs)
    _validate_mounts(list_at(ctr, "volumeMounts"), volumes, f"{path}.volumeMounts", errs)


def validate_pod(obj: JSON, errs: Errors) -> None:
    """A pod's spec (its metadata is checked by the caller)."""
    validate_pod_spec(obj.get("spec"), "spec", errs)


def validate_pod_spec(spec: Any, path: str, errs: Errors) -> None:
    """``ValidatePodSpec`` (the parts kubelite implements), in Kubernetes' order."""
    spec = spec if isinstance(spec, dict) else {}
    volumes = _validate_volumes(list_at(spec, "volumes"), f"{path}.volumes", errs)

    containers = list_at(spec, "containers")
    cpath = f"{path}.containers"
    if not containers:
        errs.required(cpath)
    else:
        seen: set[str] = set()
        for i, ctr in enumerate(containers):
            _validate_container_common(ctr, volumes, f"{cpath}[{i}]", errs)
            if dig(ctr, "restartPolicy") is not None:
                errs.forbidden(f"{cpath}[{i}].restartPolicy",
                               "may not be set for non-init containers")
            name = str_at(ctr, "name")
            if name in seen:
                errs.duplicate(f"{cpath}[{i}].name", name)
            else:
                seen.add(name)

    all_names = {str_at(c, "name") for c in containers}
    ipath = f"{path}.initContainers"
    for i, ctr in enumerate(list_at(spec, "initContainers")):
        _validate_container_common(ctr, volumes, f"{ipath}[{i}]", errs)
        policy = dig(ctr, "restartPolicy")
        if policy is not None and policy != "Always":
            errs.not_supported(f"{ipath}[{i}].restartPolicy", policy, ["Always"])
        name = str_at(ctr, "name")
        if name in all_names:
            errs.duplicate(f"{ipath}[{i}].name", name)
        elif name:
            all_names.add(name)
    ephemeral.validate_ephemeral_containers(
        spec, path, errs, lambda c, p: _validate_container_common(c, volumes, p, errs))

    restart = dig(spec, "restartPolicy")
    if restart is not None and restart != "" and restart not in _RESTART_POLICIES:
        errs.not_supported(f"{path}.restartPolicy", restart, _RESTART_POLICIES)
    dns = dig(spec, "dnsPolicy")
    if dns is not None and dns != "" and dns not in _DNS_POLICIES:
        errs.not_supported(f"{path}.dnsPolicy", dns, _DNS_POLICIES)
    validate_labels(dig(spec, "nodeSelector"), f"{path}.nodeSelector", errs)
    account = str_at(spec, "serviceAccountName")
    if account:
        for msg in name_is_dns_subdomain(account, False):
            errs.invalid(f"{path}.serviceAccountName", account, msg)
    node = str_at(spec, "nodeName")
    if node:
        for msg in name_is_dns_subdomain(node, False):
            errs.invalid(f"{path}.nodeName", node, msg)
    deadline = int_at(spec, "activeDeadlineSeconds")
    if deadline is not None and not 1 <= deadline <= 2**31 - 1:
        errs.invalid(f"{path}.activeDeadlineSeconds", deadline,
                     "must be between 1 and 2147483647, inclusive")
    hostname = str_at(spec, "hostname")
    if hostname:
        dns1123_label(hostname, f"{path}.hostname", errs)
    subdomain = str_at(spec, "subdomain")
    if subdomain:
        dns1123_label(subdomain, f"{path}.subdomain", errs)


def validate_pod_template(template: Any, path: str, errs: Errors) -> None:
    """``ValidatePodTemplateSpec``: template labels, annotations and pod spec."""
    if not isinstance(template, dict):
        errs.required(path)
        return
    meta = dict_at(template, "metadata")
    validate_labels(meta.get("labels"), f"{path}.labels", errs)
    validate_annotations(meta.get("annotations"), f"{path}.annotations", errs)
    validate_pod_spec(template.get("spec"), f"{path}.spec", errs)
    if list_at(template.get("spec"), "ephemeralContainers"):
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


def validate_pod_update(new: JSON, old: JSON, errs: Errors) -> None:
    """``ValidatePodUpdate``: pods are immutable but for images, deadlines, added
    tolerations and grace period."""
    new_spec = dict_at(new, "spec")
    old_spec = dict_at(old, "spec")
    munged = dict(new_spec)
    for key in ("containers", "initContainers"):
        if key not in new_spec:
            continue
        olds = list_at(old_spec, key)
        news = list_at(new_spec, key)
        if len(olds) == len(news):
            munged[key] = [
                {**c, "image": o.get("image")} if isinstance(c, dict) and isinstance(o, dict)
                and "image" in o else c
                for c, o in zip(news, olds, strict=True)
            ]
    new_deadline = int_at(new_spec, "activeDeadlineSeconds")
    old_deadline = int_at(old_spec, "activeDeadlineSeconds")
    if new_deadline is not None and (old_deadline is None or new_deadline <= old_deadline):
        _copy_key(munged, old_spec, "activeDeadlineSeconds")
    old_tol = list_at(old_spec, "tolerations")
    if all(t in list_at(new_spec, "tolerations") for t in old_tol):
        _copy_key(munged, old_spec, "tolerations")
    old_grace = int_at(old_spec, "terminationGracePeriodSeconds")
    if old_grace is not None and old_grace < 0 and int_at(new_spec,
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


# -- configuration ---------------------------------------------------------------------

def _b64_len(value: Any) -> int:
    if not isinstance(value, str):
        return 0
    try:
        return len(base64.b64decode(value, validate=False))
    except (binascii.Error, ValueError):
        return len(value)


def validate_config_map(obj: JSON, errs: Errors) -> None:
    data = dict_at(obj, "data")
    binary = dict_at(obj, "binaryData")
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


def validate_secret(obj: JSON, errs: Errors) -> None:
    data = dict_at(obj, "data")
    string_data = dict_at(obj, "stringData")
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
    kind = str_at(obj, "type")
    if kind == "kubernetes.io/service-account-token":
        annotations = dict_at(dict_at(obj, "metadata"), "annotations")
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


def validate_event(obj: JSON, new_api: bool, errs: Errors) -> None:
    """``legacyValidateEvent``: namespaces agree; new-style events name their reporter.

    ``new_api`` is true for events.k8s.io/v1 objects (``regarding``, ``note``,
    ``reportingController``); core/v1 spells them ``involvedObject``, ``message`` and
    ``reportingComponent``.
    """
    namespace = str_at(dict_at(obj, "metadata"), "namespace")
    ref_name = "regarding" if new_api else "involvedObject"
    ref = dict_at(obj, ref_name)
    ref_ns = str_at(ref, "namespace")
    controller_field = "reportingController" if new_api else "reportingComponent"
    controller = str_at(obj, controller_field) or str_at(obj, "reportingController")
    message_field = "note" if new_api else "message"
    ns_path = f"{ref_name}.namespace"
    if not dig(obj, "eventTime"):
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
        instance = str_at(obj, "reportingInstance")
        if not instance:
            errs.required("reportingInstance")
        if len(instance) > 128:
            errs.invalid("reportingInstance", "", "can have at most 128 characters")
        action = str_at(obj, "action")
        if not action:
            errs.required("action")
        if len(action) > 128:
            errs.invalid("action", "", "can have at most 128 characters")
        reason = str_at(obj, "reason")
        if not reason:
            errs.required("reason")
        if len(reason) > 128:
            errs.invalid("reason", "", "can have at most 128 characters")
        if len(str_at(obj, message_field)) > 1024:
            errs.invalid(message_field, "", "can have at most 1024 characters")


_IMMUTABLE_SET = "field is immutable when `immutable` is set"


def validate_immutable_data(new: JSON, old: JSON, fields: tuple[str, ...],
                             errs: Errors) -> None:
    """ConfigMaps and Secrets marked ``immutable: true`` keep their data."""
    if old.get("immutable") is not True:
        return
    if new.get("immutable") is not True:
        errs.forbidden("immutable", _IMMUTABLE_SET)
    for name in fields:
        if (new.get(name) or {}) != (old.get(name) or {}):
            errs.forbidden(name, _IMMUTABLE_SET)


def validate_config_map_update(new: JSON, old: JSON, errs: Errors) -> None:
    """An immutable ConfigMap keeps its data and binaryData."""
    validate_immutable_data(new, old, ("data", "binaryData"), errs)


def validate_secret_update(new: JSON, old: JSON, errs: Errors) -> None:
    """A Secret keeps its type; an immutable one keeps its data (stringData folded in)."""
    old_type, new_type = str_at(old, "type") or "Opaque", str_at(new, "type") or "Opaque"
    if new_type != old_type:
        errs.invalid("type", new_type, FIELD_IMMUTABLE_MSG)
    validate_immutable_data({**new, "data": secret_data(new)},
                            {**old, "data": secret_data(old)}, ("data",), errs)


def secret_data(obj: JSON) -> JSON:
    """Secret data with stringData folded in (as the API stores it)."""
    data = dict(dict_at(obj, "data"))
    for k, v in dict_at(obj, "stringData").items():
        data[k] = base64.b64encode(str(v).encode()).decode()
    return data


_SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]


def validate_service(obj: JSON, errs: Errors) -> None:
    spec = dict_at(obj, "spec")
    stype = dig(spec, "type")
    if stype is not None and stype not in _SERVICE_TYPES:
        errs.not_supported("spec.type", stype, _SERVICE_TYPES)
    ports = list_at(spec, "ports")
    headless = str_at(spec, "clusterIP") == "None"
    if not ports and not headless and stype != "ExternalName":
        errs.required("spec.ports")
    if stype == "ExternalName" and not str_at(spec, "externalName"):
        errs.required("spec.externalName")
    names: set[str] = set()
    for i, port in enumerate(ports):
        ppath = f"spec.ports[{i}]"
        name = str_at(port, "name")
        if len(ports) > 1 and not name:
            errs.required(f"{ppath}.name")
        elif name:
            dns1123_label(name, f"{ppath}.name", errs)
            if name in names:
                errs.duplicate(f"{ppath}.name", name)
            names.add(name)
        number = int_at(port, "port") or 0
        for msg in is_valid_port_num(number):
            errs.invalid(f"{ppath}.port", number, msg)
        protocol = dig(port, "protocol")
        if protocol is not None and protocol not in _PROTOCOLS:
            errs.not_supported(f"{ppath}.protocol", protocol, _PROTOCOLS)
        if stype in (None, "ClusterIP") and int_at(port, "nodePort"):
            errs.forbidden(f"{ppath}.nodePort", "may not be used when `type` is 'ClusterIP'")
        target = dig(port, "targetPort")
        if isinstance(target, int) and not isinstance(target, bool) and target != 0:
            for msg in is_valid_port_num(target):
                errs.invalid(f"{ppath}.targetPort", target, msg)
        elif isinstance(target, str) and target:
            for msg in is_valid_port_name(target):
                errs.invalid(f"{ppath}.targetPort", target, msg)
    validate_labels(dig(spec, "selector"), "spec.selector", errs)


