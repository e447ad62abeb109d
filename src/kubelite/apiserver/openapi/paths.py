"""The ``paths`` of OpenAPI v3 documents: one path item per verb of every served resource.

Operations, parameters, request bodies and responses as kube-apiserver 1.32 publishes them
(operation ids such as ``listCoreV1NamespacedPod``, the list/watch/delete/patch parameters,
the connect subresources' query parameters). :class:`PathBuilder` also collects the schema
names the paths refer to, so that a document carries exactly their closure.
"""

from __future__ import annotations

from collections.abc import Iterable

from kubelite.api import scheme
from kubelite.api.meta import JSON
from kubelite.apiserver.openapi.definitions import (
    META_PREFIX,
    PATCH_CONTENT_TYPES,
    REF_PREFIX,
    OpenAPIError,
    schema_name,
)


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


class PathBuilder:
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
        self.roots.add(META_PREFIX + kind)
        return _ref(META_PREFIX + kind)

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


