"""OpenAPI v3 documents as kube-apiserver 1.32 serves them, and schema lookup by GVK.

Source: the official 1.32 definitions that ``kubernetes-validate`` ships as JSON Schema
(``$defs``). They differ from the OpenAPI v3 documents kube-apiserver serves in a few ways,
which :func:`definitions` undoes:

- nullable types are written ``["string", "null"]``; OpenAPI 3.0 wants one type;
- references are ``#/$defs/X``, with siblings (``description``) beside ``$ref``; kube writes
  ``{"allOf": [{"$ref": "#/components/schemas/X"}], "description": ...}``;
- ``apiVersion``/``kind`` carry an ``enum`` that kube does not publish, while the real
  enumerations (``restartPolicy``, ``imagePullPolicy``, ...) are missing: they come from
  :mod:`kubelite.apiserver.openapi.openapi_enums`;
- ``IntOrString`` and ``Quantity`` are ``oneOf`` without a description; kube publishes them
  as strings (``format: int-or-string`` for the former).

Contracts:
- :func:`root` is the body of ``GET /openapi/v3``; its ``serverRelativeURL`` values carry the
  hash of each document, so a changed document gets a new URL (clients cache them forever).
- :func:`document` is the body of ``GET /openapi/v3/<gv path>``; it is built on first use,
  serialised once (sorted keys, so bytes and hash are stable) and then served from memory.
- :func:`schema_for` gives the schema of a kind with every reference resolved, for
  validation and strategic merge patch. Resolved schemas share sub-trees: never mutate them.

Loading the definitions and building all documents takes about 20 ms of CPU (see
``bench/bench_openapi.py``); call :func:`warm` at start-up, from a thread, so that no request
pays for it on the event loop.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from kubelite.api import scheme
from kubelite.api.meta import JSON
from kubelite.apiserver.openapi.openapi_enums import ENUMS, enum_description

KUBERNETES_VERSION = "v1.32.0"
REF_PREFIX = "#/components/schemas/"
_DEFS_PREFIX = "#/$defs/"

PATCH_CONTENT_TYPES = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)

_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_META = "io.k8s.apimachinery.pkg.apis.meta.v1."


class OpenAPIError(Exception):
    """The bundled definitions are missing or do not describe what kubelite serves."""


def definitions_file() -> Path:
    """The 1.32 ``_definitions.json`` inside the installed ``kubernetes-validate``."""
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or spec.origin is None:
        raise OpenAPIError("the kubernetes-validate package is not installed")
    path = (Path(spec.origin).parent / "kubernetes-json-schema"
            / f"{KUBERNETES_VERSION}-local" / "_definitions.json")
    if not path.is_file():
        raise OpenAPIError(f"missing Kubernetes {KUBERNETES_VERSION} definitions: {path}")
    return path


# --------------------------------------------------------------------------- definitions

def _normalise(node: Any) -> Any:
    """One JSON Schema node in the OpenAPI 3.0 form kube-apiserver publishes."""
    if isinstance(node, list):
        return [_normalise(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: JSON = {}
    for key, value in node.items():
        if key == "type" and isinstance(value, list):
            types = [t for t in value if t != "null"]
            out["type"] = types[0] if len(types) == 1 else types
        elif key == "$ref" and isinstance(value, str):
            out["$ref"] = REF_PREFIX + value.removeprefix(_DEFS_PREFIX)
        elif key in ("properties", "patternProperties") and isinstance(value, dict):
            out[key] = {k: _normalise(v) for k, v in value.items()}
        else:
            out[key] = _normalise(value)
    if "$ref" in out and len(out) > 1:
        ref = out.pop("$ref")
        out = {"allOf": [{"$ref": ref}], **out}
    return out


def _fix_definition(name: str, schema: JSON) -> JSON:
    if name == _INT_OR_STRING:
        return {"description": "IntOrString holds either an int32 or a string; in JSON it is "
                               "written as a number or as a string.",
                "format": "int-or-string", "type": "string"}
    if name == _QUANTITY:
        return {"description": "Quantity is a fixed-point number with an optional suffix "
                               "(for example 100m, 128Mi, 1G), written as a string.",
                "type": "string"}
    props = schema.get("properties")
    if isinstance(props, dict):
        for field in ("apiVersion", "kind"):
            if isinstance(props.get(field), dict):
                props[field].pop("enum", None)
    return schema


def _apply_enums(defs: dict[str, JSON]) -> None:
    for (name, prop), values in ENUMS.items():
        schema = defs.get(name)
        if schema is None:
            continue
        items = prop.endswith("[]")
        field = schema.get("properties", {}).get(prop.removesuffix("[]"))
        if field is None:
            raise OpenAPIError(f"enum table names an unknown field {name}.{prop}")
        target = field.get("items") if items else field
        if not isinstance(target, dict):
            raise OpenAPIError(f"enum table names a non-array field {name}.{prop}")
        target["enum"] = list(values)
        if "description" in field:
            field["description"] = enum_description(field["description"], values)


@cache
def definitions() -> dict[str, JSON]:
    """Every 1.32 schema, keyed by its OpenAPI name (``io.k8s.api.core.v1.Pod``)."""
    raw = orjson.loads(definitions_file().read_bytes())
    defs: dict[str, JSON] = {
        name: _fix_definition(name, _normalise(schema))
        for name, schema in raw["$defs"].items()
    }
    _apply_enums(defs)
    return defs


@cache
def _gvk_index() -> dict[tuple[str, str, str], str]:
    index: dict[tuple[str, str, str], str] = {}
    for name, schema in definitions().items():
        for gvk in schema.get("x-kubernetes-group-version-kind", ()):
            key = (gvk["group"], gvk["version"], gvk["kind"])
            # meta kinds (DeleteOptions, WatchEvent) are tagged with every group; a
            # group's own type wins over the shared one
            if key not in index or not name.startswith(_META):
                index[key] = name
    return index


def schema_name(group: str, version: str, kind: str) -> str | None:
    """The OpenAPI name of the schema tagged with this GVK, or None."""
    return _gvk_index().get((group, version, kind))


def ref_name(node: JSON) -> str | None:
    """The schema a node refers to (``$ref`` or kube's ``allOf: [{$ref}]``), or None."""
    ref = node.get("$ref")
    if ref is None:
        all_of = node.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
            ref = all_of[0].get("$ref")
    if isinstance(ref, str) and ref.startswith(REF_PREFIX):
        return ref[len(REF_PREFIX):]
    return None


def resolve(node: JSON) -> JSON:
    """``node`` with one level of reference replaced by the definition it names.

    The node's own keys (description, patch strategy) win over the definition's.
    """
    name = ref_name(node)
    if name is None:
        return node
    target = definitions().get(name)
    if target is None:
        raise OpenAPIError(f"unresolvable reference to {name}")
    siblings = {k: v for k, v in node.items() if k not in ("$ref", "allOf")}
    return {**target, **siblings}


_resolved: dict[str, JSON] = {}
_resolved_lock = threading.Lock()


def _resolve_deep(node: Any, stack: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_resolve_deep(v, stack) for v in node]
    if not isinstance(node, dict):
        return node
    name = ref_name(node)
    if name is not None:
        if name in stack:  # recursive type (JSONSchemaProps): keep the reference
            return node
        target = _resolved_definition(name, stack)
        siblings = {k: v for k, v in node.items() if k not in ("$ref", "allOf")}
        return {**target, **siblings} if siblings else target
    out: JSON = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties") and isinstance(value, dict):
            out[key] = {k: _resolve_deep(v, stack) for k, v in value.items()}
        elif key in ("items", "additionalProperties", "allOf", "oneOf", "anyOf"):
            out[key] = _resolve_deep(value, stack)
        else:
            out[key] = value
    return out


def _resolved_definition(name: str, stack: tuple[str, ...] = ()) -> JSON:
    done = _resolved.get(name)
    if done is not None:
        return done
    schema = definitions().get(name)
    if schema is None:
        raise OpenAPIError(f"unresolvable reference to {name}")
    result: JSON = _resolve_deep(schema, (*stack, name))
    _resolved[name] = result
    return result


def resolved_schema(name: str) -> JSON:
    """The named schema with every (non-recursive) reference resolved in place."""
    with _resolved_lock:
        return _resolved_definition(name)


def schema_for(group: str, version: str, kind: str) -> JSON | None:
    """The resolved schema of a kind (``("apps", "v1", "Deployment")``), or None."""
    name = schema_name(group, version, kind)
    return None if name is None else resolved_schema(name)


# --------------------------------------------------------------------------- paths

def gv_path(group: str, version: str) -> str:
    """The key of a group-version in ``/openapi/v3`` (``api/v1``, ``apis/apps/v1``)."""
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _ref(name: str) -> JSON:
    return {"$ref": REF_PREFIX + name}


def _gvk(group: str, version: str, kind: str) -> JSON:
    return {"group": group, "kind": kind, "version": version}


def _query(name: str, description: str, schema: JSON) -> JSON:
    return {"description": description, "in": "query", "name": name, "schema": schema}


_STR: JSON = {"type": "string", "uniqueItems": True}
_BOOL: JSON = {"type": "boolean", "uniqueItems": True}
_INT: JSON = {"type": "integer", "uniqueItems": True}

P_PRETTY = _query("pretty", "If 'true', the output is indented.", _STR)
P_DRY_RUN = _query(
    "dryRun", "When present, the request is validated and processed but nothing is stored. "
    "The only valid value is All.", _STR)
P_FIELD_MANAGER = _query(
    "fieldManager", "The name of the actor making the change, recorded in managedFields. "
    "At most 128 printable characters.", _STR)
P_FIELD_MANAGER_APPLY = _query(
    "fieldManager", "The name of the actor making the change, recorded in managedFields. "
    "Required for apply patches; at most 128 printable characters.", _STR)
P_FIELD_VALIDATION = _query(
    "fieldValidation", "What to do with unknown or duplicate fields in the body: Ignore "
    "(drop them), Warn (drop them and send a Warning header per field; the default) or "
    "Strict (fail the request with BadRequest).", _STR)
P_FORCE = _query(
    "force", "For apply patches only: take ownership of fields other managers own instead "
    "of failing with a conflict.", _BOOL)
P_GRACE = _query(
    "gracePeriodSeconds", "Seconds before the object is deleted; zero deletes at once. "
    "Defaults to the type's own grace period when unset.", _INT)
P_IGNORE_STORE = _query(
    "ignoreStoreReadErrorWithClusterBreakingPotential", "Delete an object whose stored "
    "form cannot be read. Dangerous: skips finalizers and admission.", _BOOL)
P_ORPHAN = _query(
    "orphanDependents", "Deprecated: use propagationPolicy. Whether dependents are "
    "orphaned.", _BOOL)
P_PROPAGATION = _query(
    "propagationPolicy", "How dependents are garbage collected: Orphan, Background or "
    "Foreground.", _STR)
P_WATCH_BOOKMARKS = _query(
    "allowWatchBookmarks", "Ask for BOOKMARK watch events; servers may ignore it.", _BOOL)
P_CONTINUE = _query(
    "continue", "The token from a previous paged list, to fetch the next page.", _STR)
P_FIELD_SELECTOR = _query(
    "fieldSelector", "Restrict the returned objects by their fields.", _STR)
P_LABEL_SELECTOR = _query(
    "labelSelector", "Restrict the returned objects by their labels.", _STR)
P_LIMIT = _query(
    "limit", "Maximum number of items in one response; more are reached with continue.",
    _INT)
P_RESOURCE_VERSION = _query(
    "resourceVersion", "The resource version the request must be served from.", _STR)
P_RESOURCE_VERSION_MATCH = _query(
    "resourceVersionMatch", "How resourceVersion is applied to list calls: Exact or "
    "NotOlderThan.", _STR)
P_SEND_INITIAL_EVENTS = _query(
    "sendInitialEvents", "With watch=true, start with synthetic ADDED events for the "
    "current state, then a bookmark.", _BOOL)
P_TIMEOUT = _query(
    "timeoutSeconds", "End the list or watch call after this many seconds.", _INT)
P_WATCH = _query(
    "watch", "Stream add, update and delete notifications instead of a list.", _BOOL)

_LIST_PARAMS = (P_WATCH_BOOKMARKS, P_CONTINUE, P_FIELD_SELECTOR, P_LABEL_SELECTOR, P_LIMIT,
                P_RESOURCE_VERSION, P_RESOURCE_VERSION_MATCH, P_SEND_INITIAL_EVENTS,
                P_TIMEOUT, P_WATCH)
_DELETE_PARAMS = (P_DRY_RUN, P_GRACE, P_IGNORE_STORE, P_ORPHAN, P_PROPAGATION)
_WRITE_PARAMS = (P_DRY_RUN, P_FIELD_MANAGER, P_FIELD_VALIDATION)
_PATCH_PARAMS = (P_DRY_RUN, P_FIELD_MANAGER_APPLY, P_FIELD_VALIDATION, P_FORCE)

_OBJECT_TYPES = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")
_STREAM_TYPES = (*_OBJECT_TYPES, "application/json;stream=watch",
                 "application/vnd.kubernetes.protobuf;stream=watch")


def _content(schema: JSON, types: Iterable[str] = _OBJECT_TYPES) -> JSON:
    return {t: {"schema": schema} for t in types}


def _responses(codes: dict[str, str], schema: JSON,
               types: Iterable[str] = _OBJECT_TYPES) -> JSON:
    out: JSON = {code: {"content": _content(schema, types), "description": text}
                 for code, text in codes.items()}
    out["401"] = {"description": "Unauthorized"}
    return out


def _path_param(name: str, description: str) -> JSON:
    return {"description": description, "in": "path", "name": name, "required": True,
            "schema": _STR}


def _op_id_group(group: str, version: str) -> str:
    base = group.split(".")[0] if group else "core"
    return base[:1].upper() + base[1:] + version[:1].upper() + version[1:]


def _tag(group: str, version: str) -> str:
    return f"{group.split('.')[0] if group else 'core'}_{version}"


class _PathBuilder:
    """Collects the ``paths`` of one group-version and the schemas they name."""

    def __init__(self, group: str, version: str) -> None:
        self.group, self.version = group, version
        self.prefix = "/" + gv_path(group, version)
        self.paths: dict[str, JSON] = {}
        self.roots: set[str] = set()
        self.ids = _op_id_group(group, version)
        self.tags = [_tag(group, version)]

    def schema(self, group: str, version: str, kind: str) -> JSON:
        name = schema_name(group, version, kind)
        if name is None:
            raise OpenAPIError(f"no 1.32 schema for {group}/{version} {kind}")
        self.roots.add(name)
        return _ref(name)

    def meta(self, kind: str) -> JSON:
        self.roots.add(_META + kind)
        return _ref(_META + kind)

    def op(self, action: str, op_id: str, description: str, gvk: JSON,
           responses: JSON, params: Iterable[JSON] = (), body: JSON | None = None) -> JSON:
        out: JSON = {"description": description, "operationId": op_id,
                     "responses": responses, "tags": self.tags,
                     "x-kubernetes-action": action, "x-kubernetes-group-version-kind": gvk}
        if params:
            out["parameters"] = list(params)
        if body is not None:
            out["requestBody"] = body
        return out

    def add(self, path: str, params: list[JSON], **ops: JSON) -> None:
        self.paths[path] = {**ops, "parameters": params}

    def resource(self, res: scheme.Resource) -> None:
        kind, g, v = res.kind, res.group, res.version
        gvk = _gvk(g, v, kind)
        obj = self.schema(g, v, kind)
        verbs = set(res.verbs)
        # create-only kinds (reviews) have no list kind
        lst = self.schema(g, v, res.list_kind) if "list" in verbs else obj
        status, event = self.meta("Status"), self.meta("WatchEvent")
        delete_opts, patch = self.meta("DeleteOptions"), self.meta("Patch")
        ns = "Namespaced" if res.namespaced else ""
        base = (f"{self.prefix}/namespaces/{{namespace}}/{res.plural}" if res.namespaced
                else f"{self.prefix}/{res.plural}")
        watch_base = (f"{self.prefix}/watch/namespaces/{{namespace}}/{res.plural}"
                      if res.namespaced else f"{self.prefix}/watch/{res.plural}")
        scope = ([_path_param("namespace", "object name and auth scope, such as for teams "
                                            "and projects")] if res.namespaced else [])
        name_p = _path_param("name", f"name of the {kind}")
        body = {"content": _content(obj, ("*/*",)), "required": True}

        coll: JSON = {}
        if "list" in verbs:
            coll["get"] = self.op(
                "list", f"list{self.ids}{ns}{kind}", f"list or watch objects of kind {kind}",
                gvk, _responses({"200": "OK"}, lst, _STREAM_TYPES), _LIST_PARAMS)
        if "create" in verbs:
            coll["post"] = self.op(
                "post", f"create{self.ids}{ns}{kind}", f"create a {kind}", gvk,
                _responses({"200": "OK", "201": "Created", "202": "Accepted"}, obj),
                _WRITE_PARAMS, body)
        if "deletecollection" in verbs:
            coll["delete"] = self.op(
                "deletecollection", f"deletecollection{self.ids}{ns}{kind}",
                f"delete collection of {kind}", gvk, _responses({"200": "OK"}, status),
                (*_LIST_PARAMS[1:], *_DELETE_PARAMS),
                {"content": _content(delete_opts, ("*/*",))})
        if coll:
            self.add(base, [*scope, P_PRETTY], **coll)

        item: JSON = {}
        if "get" in verbs:
            item["get"] = self.op("get", f"read{self.ids}{ns}{kind}",
                                  f"read the specified {kind}", gvk,
                                  _responses({"200": "OK"}, obj))
        if "update" in verbs:
            item["put"] = self.op(
                "put", f"replace{self.ids}{ns}{kind}", f"replace the specified {kind}", gvk,
                _responses({"200": "OK", "201": "Created"}, obj), _WRITE_PARAMS, body)
        if "patch" in verbs:
            item["patch"] = self.op(
                "patch", f"patch{self.ids}{ns}{kind}",
                f"partially update the specified {kind}", gvk,
                _responses({"200": "OK", "201": "Created"}, obj), _PATCH_PARAMS,
                {"content": {t: {"schema": patch} for t in PATCH_CONTENT_TYPES},
                 "required": True})
        if "delete" in verbs:
            item["delete"] = self.op(
                "delete", f"delete{self.ids}{ns}{kind}", f"delete a {kind}", gvk,
                _responses({"200": "OK", "202": "Accepted"}, status), _DELETE_PARAMS,
                {"content": _content(delete_opts, ("*/*",))})
        if item:
            self.add(f"{base}/{{name}}", [name_p, *scope, P_PRETTY], **item)

        if "watch" in verbs:
            watch_params = [*_LIST_PARAMS]
            self.add(f"{watch_base}", [*watch_params, *scope, P_PRETTY], get=self.op(
                "watchlist", f"watch{self.ids}{ns}{kind}List",
                f"watch individual changes to a list of {kind}. deprecated: use the 'watch' "
                "parameter with a list operation instead.", gvk,
                _responses({"200": "OK"}, event, _STREAM_TYPES)))
            self.add(f"{watch_base}/{{name}}", [*watch_params, name_p, *scope, P_PRETTY],
                     get=self.op(
                         "watch", f"watch{self.ids}{ns}{kind}",
                         f"watch changes to an object of kind {kind}. deprecated: use the "
                         "'watch' parameter with a list operation instead, filtered to a "
                         "single item with the 'fieldSelector' parameter.", gvk,
                         _responses({"200": "OK"}, event, _STREAM_TYPES)))
        if res.namespaced and "list" in verbs:
            self.add(f"{self.prefix}/{res.plural}", [*_LIST_PARAMS, P_PRETTY], get=self.op(
                "list", f"list{self.ids}{kind}ForAllNamespaces",
                f"list or watch objects of kind {kind}", gvk,
                _responses({"200": "OK"}, lst, _STREAM_TYPES)))
        if res.namespaced and "watch" in verbs:
            self.add(f"{self.prefix}/watch/{res.plural}", [*_LIST_PARAMS, P_PRETTY],
                     get=self.op(
                         "watchlist", f"watch{self.ids}{kind}ListForAllNamespaces",
                         f"watch individual changes to a list of {kind}. deprecated: use the "
                         "'watch' parameter with a list operation instead.", gvk,
                         _responses({"200": "OK"}, event, _STREAM_TYPES)))

        for sub in res.subresources:
            self.subresource(res, sub, base, [name_p, *scope], ns)

    def subresource(self, res: scheme.Resource, sub: scheme.Subresource, base: str,
                    params: list[JSON], ns: str) -> None:
        path = f"{base}/{{name}}/{sub.name}"
        gvk = _gvk(sub.group, sub.version, sub.kind)
        title = sub.name[:1].upper() + sub.name[1:]
        if sub.name in ("attach", "exec", "portforward", "proxy"):
            self._connect(res, sub, path, params, ns, title)
            return
        if sub.name == "log":
            self.add(path, params, get=self.op(
                "get", f"read{self.ids}{ns}{res.kind}Log",
                f"read log of the specified {res.kind}", gvk,
                _responses({"200": "OK"}, {"type": "string"},
                           ("application/json", "application/vnd.kubernetes.protobuf",
                            "application/yaml", "text/plain")), _LOG_PARAMS))
            return
        obj = self.schema(sub.group, sub.version, sub.kind)
        body = {"content": _content(obj, ("*/*",)), "required": True}
        ops: JSON = {}
        if "create" in sub.verbs:
            ops["post"] = self.op(
                "post", f"create{self.ids}{ns}{res.kind}{title}", f"create {sub.name} of a "
                f"{res.kind}", gvk,
                _responses({"200": "OK", "201": "Created", "202": "Accepted"}, obj),
                _WRITE_PARAMS, body)
        if "get" in sub.verbs:
            ops["get"] = self.op(
                "get", f"read{self.ids}{ns}{res.kind}{title}",
                f"read {sub.name} of the specified {res.kind}", gvk,
                _responses({"200": "OK"}, obj))
        if "update" in sub.verbs:
            ops["put"] = self.op(
                "put", f"replace{self.ids}{ns}{res.kind}{title}",
                f"replace {sub.name} of the specified {res.kind}", gvk,
                _responses({"200": "OK", "201": "Created"}, obj), _WRITE_PARAMS, body)
        if "patch" in sub.verbs:
            ops["patch"] = self.op(
                "patch", f"patch{self.ids}{ns}{res.kind}{title}",
                f"partially update {sub.name} of the specified {res.kind}", gvk,
                _responses({"200": "OK", "201": "Created"}, obj), _PATCH_PARAMS,
                {"content": {t: {"schema": self.meta("Patch")} for t in PATCH_CONTENT_TYPES},
                 "required": True})
        self.add(path, [*params, P_PRETTY], **ops)

    def _connect(self, res: scheme.Resource, sub: scheme.Subresource, path: str,
                 params: list[JSON], ns: str, title: str) -> None:
        gvk = _gvk(sub.group, sub.version, sub.kind)
        query = _CONNECT_PARAMS.get(sub.name, ())
        methods = {"get": "get", "create": "post", "update": "put", "patch": "patch",
                   "delete": "delete"}
        ops: JSON = {}
        for verb in sub.verbs:
            method = methods[verb]
            ops[method] = self.op(
                "connect", f"connect{self.ids}{method.capitalize()}{ns}{res.kind}{title}",
                f"connect {method.upper()} requests to {sub.name} of {res.kind}", gvk,
                _responses({"200": "OK"}, {"type": "string"}, ("*/*",)))
        self.add(path, [*params, *query], **ops)
        if sub.name == "proxy":
            self.add(f"{path}/{{path}}",
                     [*params, _path_param("path", "path to the resource"),
                      *query[1:]], **ops)


_LOG_PARAMS = (
    _query("container", "The container to stream logs from; may be omitted when the pod "
                        "has one container.", _STR),
    _query("follow", "Keep streaming the log as it grows.", _BOOL),
    _query("insecureSkipTLSVerifyBackend", "Do not verify the kubelet's serving "
                                           "certificate.", _BOOL),
    _query("limitBytes", "Stop after this many bytes.", _INT),
    _query("previous", "Return the log of the previous, terminated container instance.",
           _BOOL),
    _query("sinceSeconds", "Only lines newer than this many seconds.", _INT),
    _query("stream", "Which stream to return: All, Stdout or Stderr.", _STR),
    _query("tailLines", "Only this many lines from the end of the log.", _INT),
    _query("timestamps", "Prefix every line with an RFC3339 timestamp.", _BOOL),
)
_STDIO_PARAMS = (
    _query("container", "The container to connect to.", _STR),
    _query("stderr", "Redirect the standard error stream.", _BOOL),
    _query("stdin", "Redirect the standard input stream.", _BOOL),
    _query("stdout", "Redirect the standard output stream.", _BOOL),
    _query("tty", "Allocate a terminal.", _BOOL),
)
_CONNECT_PARAMS: dict[str, tuple[JSON, ...]] = {
    "attach": _STDIO_PARAMS,
    "exec": (_query("command", "The command to run, one argument per parameter.", _STR),
             *_STDIO_PARAMS),
    "portforward": (_query("ports", "Ports to forward.", _INT),),
    "proxy": (_query("path", "Path to proxy to.", _STR),),
}


# --------------------------------------------------------------------------- documents

def served_group_versions() -> list[tuple[str, str]]:
    """The group-versions kubelite serves, core first, in discovery order."""
    out: list[tuple[str, str]] = []
    for group in scheme.groups():
        for version in scheme.versions_of(group):
            out.append((group, version))
    return out


def _closure(roots: Iterable[str]) -> dict[str, JSON]:
    defs = definitions()
    seen: dict[str, JSON] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        schema = defs.get(name)
        if schema is None:
            raise OpenAPIError(f"unresolvable reference to {name}")
        seen[name] = schema
        todo.extend(_refs(schema))
    return dict(sorted(seen.items()))


def _refs(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            yield ref[len(REF_PREFIX):]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def build_document(group: str, version: str) -> JSON:
    """The OpenAPI 3.0 document of one served group-version (not cached)."""
    resources = scheme.resources_in(group, version)
    if not resources:
        raise OpenAPIError(f"kubelite does not serve {gv_path(group, version)}")
    paths = _PathBuilder(group, version)
    for res in resources:
        paths.resource(res)
    return {
        "components": {"schemas": _closure(paths.roots)},
        "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION},
        "openapi": "3.0.0",
        "paths": dict(sorted(paths.paths.items())),
    }


def _hash(body: bytes) -> str:
    return hashlib.sha512(body).hexdigest().upper()


class _Cache:
    """Serialised documents and their hashes, built once per process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.docs: dict[str, tuple[bytes, str]] = {}
        self.root: bytes | None = None

    def document(self, path: str) -> tuple[bytes, str]:
        with self.lock:
            hit = self.docs.get(path)
            if hit is not None:
                return hit
            for group, version in served_group_versions():
                if gv_path(group, version) == path:
                    body = orjson.dumps(build_document(group, version),
                                        option=orjson.OPT_SORT_KEYS)
                    self.docs[path] = (body, _hash(body))
                    return self.docs[path]
        raise KeyError(path)


_CACHE = _Cache()


def document(path: str) -> bytes:
    """The serialised document for a key of :func:`root` (``api/v1``); KeyError if none."""
    return _CACHE.document(path)[0]


def document_hash(path: str) -> str:
    """The upper-case hex SHA-512 of :func:`document`, as kube puts in ``?hash=``."""
    return _CACHE.document(path)[1]


def root() -> bytes:
    """The body of ``GET /openapi/v3``."""
    if _CACHE.root is None:
        paths = {}
        for group, version in served_group_versions():
            key = gv_path(group, version)
            paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={document_hash(key)}"}
        _CACHE.root = orjson.dumps({"paths": paths})
    return _CACHE.root


def warm() -> None:
    """Build every document now (slow: run it in a thread)."""
    root()
