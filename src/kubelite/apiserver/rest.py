"""REST handlers for every served resource: the verbs kubectl and clients use.

One catch-all handler parses the path (``paths.parse``), picks the verb from the method
and query, and calls the :class:`~kubelite.apiserver.registry.Registry`. Tables are answered
when the client asks for them; errors leave as ``Status`` documents (the app's middleware).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web

from kubelite.api import convert, errors, fieldselectors, scheme, selectors
from kubelite.api.meta_time import Clock, rfc3339
from kubelite.apiserver import codec, decoding, patching, paths, query
from kubelite.apiserver import request_keys as keys
from kubelite.apiserver.discovery import Discovery
from kubelite.apiserver.eviction import check_budgets
from kubelite.apiserver.kinds.table import strategy_for
from kubelite.apiserver.patch import patch
from kubelite.apiserver.printers import tables
from kubelite.apiserver.registry import DeleteOptions, Registry
from kubelite.apiserver.watch import DEFAULT_MIN_REQUEST_TIMEOUT, WatchStream, server_timeout
from kubelite.storage.interface import JSON, Compacted

SubresourceHandler = Callable[[web.Request, paths.RequestInfo], Awaitable[web.StreamResponse]]

_flag = query.flag


def _dry_run(request: web.Request) -> bool:
    values = request.query.getall("dryRun", [])
    for v in values:
        if v != "All":
            raise errors.bad_request(f'unsupported dry run option "{v}"')
    return bool(values)


def _encode_continue(revision: int, key: str) -> str:
    raw = orjson.dumps({"v": "meta.k8s.io/v1", "rv": revision, "start": key})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_continue(token: str) -> tuple[int, str]:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded))
        rv, start = data["rv"], data["start"]
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        raise errors.bad_request("continue key is not valid: invalid continue token") from None
    if type(rv) is not int or not 0 < rv < 2**63 or not isinstance(start, str):
        raise errors.bad_request("continue key is not valid: incorrect encoded start "
                                 "resourceVersion (version meta.k8s.io/v1)")
    return rv, start


def _events_core() -> scheme.Resource:
    res = scheme.lookup("", "v1", "events")
    assert res is not None
    return res


# Resources stored in another version's shape: addressed GVR -> (stored, in, out)
CONVERSIONS: dict[tuple[str, str, str], tuple[scheme.Resource, Callable[[JSON], JSON],
                                             Callable[[JSON], JSON]]] = {
    ("events.k8s.io", "v1", "events"): (_events_core(), convert.event_to_core,
                                        convert.event_from_core),
}


# Resources that are answered, not stored
REVIEWS = frozenset({"selfsubjectreviews", "selfsubjectaccessreviews"})


def _out(request: web.Request, obj: JSON) -> JSON:
    from_storage = request.get(keys.FROM_STORAGE)
    return from_storage(obj) if from_storage is not None else obj


def _manager(request: web.Request, options_kind: str) -> str:
    return patching.field_manager(request.query, request.headers.get("User-Agent", ""),
                                  options_kind)


def warn(request: web.Request, warnings: list[str]) -> None:
    """Remember warnings for this request; the app sends them as ``Warning`` headers."""
    request[keys.WARNINGS] = warnings


class ResourceHandlers:
    """The handlers behind ``/api/...`` and ``/apis/...`` resource paths."""

    def __init__(
        self,
        registry: Registry,
        discovery: Discovery,
        clock: Clock,
        stopping: asyncio.Event,
        protobuf: codec.ProtobufSchemas | None = None,
    ) -> None:
        self.registry = registry
        self.protobuf = protobuf
        self.discovery = discovery
        self.clock = clock
        self.stopping = stopping
        # a watch without timeoutSeconds ends after a random time in [this, 2*this)
        self.min_request_timeout = DEFAULT_MIN_REQUEST_TIMEOUT
        # pods/log, exec, attach, portforward, proxy: installed by the kubelet proxy layer
        self.subresource_handlers: dict[tuple[str, str], SubresourceHandler] = {}
        # the API server's metrics: what a watch of a resource calls for each event sent
        self.watch_counter: Callable[[scheme.Resource], Callable[[], None]] | None = None

    # -- dispatch ------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        info = paths.parse(request.path)
        if info is None:
            return self._group_discovery(request)
        res = info.resource
        if res is None:
            raise errors.StatusError(
                404, "NotFound", "the server could not find the requested resource",
                {"group": info.group, "kind": info.plural} if info.plural else None,
            )
        if info.subresource and res.subresource(info.subresource) is None:
            raise errors.StatusError(404, "NotFound",
                                     "the server could not find the requested resource")
        if info.namespace is not None and not res.namespaced:
            raise errors.StatusError(404, "NotFound",
                                     "the server could not find the requested resource")
        conversion = CONVERSIONS.get((res.group, res.version, res.plural))
        if conversion is not None:
            request[keys.ADDRESSED] = res
            res, to_storage, from_storage = conversion
            request[keys.TO_STORAGE] = to_storage
            request[keys.FROM_STORAGE] = from_storage
        special = self.subresource_handlers.get((res.plural, info.subresource or ""))
        if special is not None and info.name:
            return await special(request, info)
        method = request.method
        if info.name is None:
            if method == "GET":
                if _flag(request.query, "watch"):
                    return await self.watch(request, res, info.namespace)
                return await self.list(request, res, info.namespace)
            if method == "POST" and res.plural in REVIEWS:
                return await self.review(request, res)
            if method == "POST":
                return await self.create(request, res, info.namespace)
            if method == "DELETE" and "deletecollection" in res.verbs:
                return await self.delete_collection(request, res, info.namespace)
            raise errors.method_not_allowed()  # e.g. namespaces: nothing deleted
        if info.subresource == "scale":
            return await self.scale(request, res, info.namespace, info.name)
        if info.subresource == "binding" and method == "POST":
            return await self.bind(request, res, info.namespace, info.name)
        if info.subresource == "eviction" and method == "POST":
            return await self.evict(request, res, info.namespace, info.name)
        if method == "GET":
            return await self.get(request, res, info.namespace, info.name)
        if method == "PUT":
            return await self.update(request, res, info.namespace, info.name, info.subresource)
        if method == "PATCH":
            return await self.patch(request, res, info.namespace, info.name, info.subresource)
        if method == "DELETE" and info.subresource is None:
            return await self.delete(request, res, info.namespace, info.name)
        raise errors.method_not_allowed()

    def _group_discovery(self, request: web.Request) -> web.Response:
        parts = [p for p in request.path.split("/") if p]
        body: bytes | None = None
        if len(parts) == 2 and parts[0] == "api":
            body = self.discovery.resource_list("", parts[1])
        elif len(parts) == 3 and parts[0] == "apis":
            body = self.discovery.resource_list(parts[1], parts[2])
        elif len(parts) == 2 and parts[0] == "apis":
            body = self.discovery.group(parts[1])
        if body is None:
            raise errors.StatusError(404, "NotFound",
                                     "the server could not find the requested resource")
        return web.Response(body=body, content_type="application/json")

    # -- reads ---------------------------------------------------------------------------

    def _matcher(self, request: web.Request, res: scheme.Resource) -> Callable[[JSON], bool]:
        label = request.query.get("labelSelector", "")
        field = request.query.get("fieldSelector", "")
        lsel = selectors.parse_label_selector(label) if label else None
        strategy = strategy_for(res)
        fsel = (fieldselectors.parse_field_selector(
            field, strategy.field_selectors, strategy.field_aliases) if field else None)
        if lsel is None and fsel is None:
            return lambda _obj: True

        def match(obj: JSON) -> bool:
            if lsel is not None and not lsel.matches(obj.get("metadata", {}).get("labels") or {}):
                return False
            return fsel is None or fsel.matches(obj)

        return match

    def _respond_object(
        self, request: web.Request, res: scheme.Resource, obj: JSON, status: int = 200
    ) -> web.Response:
        accept = codec.negotiate(request.headers.get("Accept", ""))
        if accept.table:
            table = tables.build_table(
                strategy_for(res).printer, [obj], self.clock(),
                include_object=request.query.get("includeObject", "Metadata"),
            )
            table["metadata"] = {"resourceVersion": obj["metadata"].get("resourceVersion", "")}
            return codec.json_response(table, status)
        return codec.json_response(_out(request, obj), status)

    async def get(
        self, request: web.Request, res: scheme.Resource, namespace: str | None, name: str
    ) -> web.Response:
        self._check_read_version(request)
        obj = await self.registry.get(res, namespace, name)
        return self._respond_object(request, res, obj)

    def _check_read_version(self, request: web.Request, continued: int = 0) -> None:
        """400 for a malformed resourceVersion, 504 (kube's answer after waiting) for one
        the store has not reached."""
        asked = max(query.resource_version(request.query) or 0, continued)
        current = self.registry.store.revision
        if asked > current:
            raise query.too_large_resource_version(asked, current)

    async def list(
        self, request: web.Request, res: scheme.Resource, namespace: str | None
    ) -> web.Response:
        match = self._matcher(request, res)
        query.check_list_options(request.query, watch=False)
        limit = query.int_param(request.query, "limit") or 0
        token = request.query.get("continue", "")
        revision, start = _decode_continue(token) if token else (0, "")
        self._check_read_version(request, revision)
        try:
            listing = await self.registry.list(
                res, namespace, revision=revision, start_after=start
            )
        except Compacted:
            raise errors.StatusError(
                410, "Expired",
                "The provided continue parameter is too old to display a consistent list "
                "result. You can start a new list without the continue parameter, or use "
                "the continue token in this response to retrieve the remainder of the "
                "results. Continuing with the provided token results in an inconsistent "
                "list - objects that were created, modified, or deleted between the time "
                "the first chunk was returned and now may show up in the list.",
            ) from None
        items = [o for o in listing.items if match(o)]
        meta: JSON = {"resourceVersion": str(listing.revision)}
        if limit > 0 and len(items) > limit:
            remaining = len(items) - limit
            items = items[:limit]
            key = res.key(items[-1]["metadata"].get("namespace"), items[-1]["metadata"]["name"])
            meta["continue"] = _encode_continue(listing.revision, key)
            meta["remainingItemCount"] = remaining
        accept = codec.negotiate(request.headers.get("Accept", ""))
        if accept.table:
            table = tables.build_table(
                strategy_for(res).printer, items, self.clock(),
                include_object=request.query.get("includeObject", "Metadata"),
            )
            table["metadata"] = meta
            return codec.json_response(table)
        shown: scheme.Resource = request.get(keys.ADDRESSED) or res
        body = (
            b'{"kind":"' + shown.list_kind.encode() + b'","apiVersion":"'
            + shown.api_version.encode() + b'","metadata":' + orjson.dumps(meta)
            + b',"items":' + orjson.dumps([_out(request, o) for o in items]) + b"}"
        )
        return web.Response(body=body, content_type="application/json")

    async def watch(
        self, request: web.Request, res: scheme.Resource, namespace: str | None
    ) -> web.StreamResponse:
        match = self._matcher(request, res)
        query.check_list_options(request.query, watch=True)
        query.resource_version(request.query)
        seconds = query.int_param(request.query, "timeoutSeconds")
        timeout = float(seconds) if seconds is not None else None
        accept = codec.negotiate(request.headers.get("Accept", ""))
        include = request.query.get("includeObject", "Metadata")
        table_fn = None
        if accept.table:
            printer = strategy_for(res).printer

            def table_fn(obj: JSON, first: bool) -> JSON:
                t = tables.build_table(printer, [obj], self.clock(), include_object=include)
                t["metadata"] = {"resourceVersion": obj["metadata"].get("resourceVersion", "")}
                if not first:
                    t["columnDefinitions"] = None
                return t
        stream = WatchStream(
            self.registry.store, res, res.prefix(namespace), match,
            table=table_fn, bookmarks=_flag(request.query, "allowWatchBookmarks"),
            timeout=timeout or server_timeout(self.min_request_timeout),
            stopping=self.stopping, transform=request.get(keys.FROM_STORAGE),
            on_event=self.watch_counter(request.get(keys.ADDRESSED) or res)
            if self.watch_counter else None,
        )
        return await stream.run(request, request.query.get("resourceVersion"))

    # -- writes --------------------------------------------------------------------------

    async def _decode(self, request: web.Request, res: scheme.Resource) -> JSON:
        addressed: scheme.Resource | None = request.get(keys.ADDRESSED)
        obj = await self._decode_as(request, addressed or res)
        to_storage = request.get(keys.TO_STORAGE)
        return to_storage(obj) if to_storage is not None else obj

    async def _decode_as(self, request: web.Request, res: scheme.Resource) -> JSON:
        body = await codec.read_body(request)
        obj = await codec.decode_body(body, request.headers.get("Content-Type", ""),
                                      self.protobuf)
        obj, warnings = decoding.typed_object(
            res, obj, decoding.validation_mode(request.query), body=True)
        warn(request, warnings)
        kind = obj.get("kind")
        api_version = obj.get("apiVersion")
        if kind and kind != res.kind:
            raise errors.bad_request(
                f"the kind in the data ({kind}) does not match the expected kind ({res.kind})"
            )
        if api_version and api_version != res.api_version:
            raise errors.bad_request(
                f"the API version in the data ({api_version}) does not match the expected "
                f"API version ({res.api_version})"
            )
        return obj

    async def create(
        self, request: web.Request, res: scheme.Resource, namespace: str | None
    ) -> web.Response:
        if res.namespaced and namespace is None:
            raise errors.method_not_allowed()
        obj = await self._decode(request, res)
        meta = obj.get("metadata") or {}
        if res.namespaced and meta.get("namespace") not in (None, "", namespace):
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )
        manager = _manager(request, "CreateOptions")
        created = await self.registry.create(res, namespace, obj, dry_run=_dry_run(request),
                                             field_manager=manager)
        return self._respond_object(request, res, created, 201)

    async def update(
        self, request: web.Request, res: scheme.Resource, namespace: str | None, name: str,
        subresource: str | None,
    ) -> web.Response:
        obj = await self._decode(request, res)
        decoding.check_update_resource_version(obj)
        updated = await self.registry.update(
            res, namespace, name, obj, subresource=subresource, dry_run=_dry_run(request),
            field_manager=_manager(request, "UpdateOptions"),
        )
        return self._respond_object(request, res, updated)

    async def patch(
        self, request: web.Request, res: scheme.Resource, namespace: str | None, name: str,
        subresource: str | None,
    ) -> web.Response:
        content_type = request.headers.get("Content-Type", "")
        body = await codec.read_body(request)
        validation_mode = decoding.validation_mode(request.query)
        if patch.media_type(content_type) == patch.APPLY_PATCH:
            return await self._server_side_apply(request, res, namespace, name, subresource,
                                                 body, validation_mode)
        manager = _manager(request, "PatchOptions")

        def apply(current: JSON) -> JSON:
            patched = patching.apply_patch(res, current, body, content_type)
            patched, request[keys.WARNINGS] = decoding.typed_object(res, patched,
                                                                    validation_mode)
            return patched

        updated = await self.registry.guaranteed_update(
            res, namespace, name, apply, subresource=subresource, dry_run=_dry_run(request),
            field_manager=manager,
        )
        return self._respond_object(request, res, updated)

    async def _server_side_apply(
        self, request: web.Request, res: scheme.Resource, namespace: str | None, name: str,
        subresource: str | None, body: bytes, validation_mode: str,
    ) -> web.Response:
        """PATCH with ``application/apply-patch+yaml``: create (201) or merge (200)."""
        manager, force = patching.apply_options(request.query)
        config = await patching.decode_apply(body)
        addressed: scheme.Resource | None = request.get("addressed")
        config, warnings = decoding.typed_object(addressed or res, config, validation_mode)
        warn(request, warnings)
        to_storage = request.get("to_storage")
        if to_storage is not None:
            config = to_storage(config)
        raw_meta = config.get("metadata")
        meta: JSON = raw_meta if isinstance(raw_meta, dict) else {}
        if res.namespaced and meta.get("namespace") not in (None, "", namespace):
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )

        def apply(current: JSON | None) -> JSON:
            new = patching.server_side_apply(res, current, config, manager, force,
                                             rfc3339(self.clock()), subresource)
            new = decoding.typed_object(res, new)[0]
            got = (new.get("metadata") or {}).get("name") or ""
            if got != name:
                raise errors.bad_request(
                    f"the name of the object ({got}) does not match the name on the URL "
                    f"({name})"
                    if got else f"the name of the object ({name} based on URL) was "
                    "undeterminable: name must be provided")
            return new

        updated, created = await self.registry.update_or_create(
            res, namespace, name, apply, subresource=subresource, dry_run=_dry_run(request)
        )
        return self._respond_object(request, res, updated, 201 if created else 200)

    async def _delete_options(self, request: web.Request) -> DeleteOptions:
        body = await codec.read_body(request)
        doc = await codec.decode_body(
            body, request.headers.get("Content-Type", ""), self.protobuf) if body else None
        if doc is not None:
            doc = decoding.typed_kind(doc, "", "v1", "DeleteOptions")
        params = {k: request.query[k] for k in ("gracePeriodSeconds", "propagationPolicy",
                                                  "dryRun") if k in request.query}
        query.int_param(params, "gracePeriodSeconds")
        if "orphanDependents" in request.query:
            params["orphanDependents"] = str(query.flag(request.query, "orphanDependents"))
        return DeleteOptions.from_json(doc, params)

    async def delete(
        self, request: web.Request, res: scheme.Resource, namespace: str | None, name: str
    ) -> web.Response:
        opts = await self._delete_options(request)
        obj = await self.registry.delete(res, namespace, name, opts)
        return codec.json_response(_out(request, obj))

    async def delete_collection(
        self, request: web.Request, res: scheme.Resource, namespace: str | None
    ) -> web.Response:
        opts = await self._delete_options(request)
        match = self._matcher(request, res)
        listing = await self.registry.list(res, namespace)
        deleted = []
        for obj in listing.items:
            if not match(obj):
                continue
            meta = obj["metadata"]
            try:
                deleted.append(
                    await self.registry.delete(res, meta.get("namespace"), meta["name"], opts)
                )
            except errors.StatusError as exc:
                if exc.code != 404:
                    raise
        return codec.json_response({
            "kind": res.list_kind, "apiVersion": res.api_version,
            "metadata": {"resourceVersion": str(self.registry.store.revision)},
            "items": deleted,
        })

    # -- subresources --------------------------------------------------------------------

    async def scale(
        self, request: web.Request, res: scheme.Resource, namespace: str | None, name: str
    ) -> web.Response:
        def to_scale(obj: JSON) -> JSON:
            meta = obj["metadata"]
            selector = ((obj.get("spec") or {}).get("selector") or {})
            return {
                "kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                                   "creationTimestamp") if k in meta},
                "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 1)},
                "status": {
                    "replicas": (obj.get("status") or {}).get("replicas", 0),
                    "selector": selectors.format_label_selector(selector),
                },
            }

        if request.method == "GET":
            return codec.json_response(to_scale(await self.registry.get(res, namespace, name)))
        if request.method not in ("PUT", "PATCH"):
            raise errors.method_not_allowed()
        content_type = request.headers.get("Content-Type", "")
        body = await codec.read_body(request)
        put_scale = (decoding.typed_kind(
            await codec.decode_body(body, content_type, self.protobuf),
            "autoscaling", "v1", "Scale") if request.method == "PUT" else None)
        manager = _manager(request, "UpdateOptions" if request.method == "PUT"
                           else "PatchOptions")

        def apply(current: JSON) -> JSON:
            scale = to_scale(current)
            if put_scale is not None:
                new_scale = put_scale
                rv = (new_scale.get("metadata") or {}).get("resourceVersion")
                if rv and rv != current["metadata"]["resourceVersion"]:
                    raise errors.conflict(res.plural, name, res.group)
            else:
                new_scale = decoding.typed_kind(
                    patching.apply_patch(None, scale, body, content_type),
                    "autoscaling", "v1", "Scale")
            # ScaleSpec.replicas is a Go int32 with omitempty: absent means 0
            replicas = (new_scale.get("spec") or {}).get("replicas", 0)
            if not isinstance(replicas, int) or replicas < 0:
                raise errors.invalid("Scale", name, [errors.Cause(
                    "FieldValueInvalid",
                    f"Invalid value: {orjson.dumps(replicas).decode()}: must be greater than "
                    "or equal to 0", "spec.replicas")], "autoscaling")
            current.setdefault("spec", {})["replicas"] = replicas
            return current

        updated = await self.registry.guaranteed_update(
            res, namespace, name, apply, dry_run=_dry_run(request), field_manager=manager,
            owner_subresource="scale",
        )
        return codec.json_response(to_scale(updated))

    async def review(self, request: web.Request, res: scheme.Resource) -> web.Response:
        """SelfSubjectReview (who am I) and SelfSubjectAccessReview (may I): answered from
        the request's user, never stored. kubelite has no authorization layer yet: every
        authenticated user may do everything, as a member of system:masters may."""
        body = await self._decode(request, res)
        user = request[keys.USER]
        info = {"username": user.name, "groups": [*user.groups, "system:authenticated"]}
        if user.uid:
            info["uid"] = user.uid
        status: JSON = ({"userInfo": info} if res.kind == "SelfSubjectReview"
                        else {"allowed": True})
        out = {"kind": res.kind, "apiVersion": res.api_version,
               "metadata": {"creationTimestamp": None}, "spec": body.get("spec") or {},
               "status": status}
        if res.kind == "SelfSubjectReview":
            out.pop("spec")
        return codec.json_response(out, 201)

    async def evict(
        self, request: web.Request, res: scheme.Resource, namespace: str | None, name: str
    ) -> web.Response:
        """pods/eviction: a delete that the pod's disruption budget may refuse."""
        body = await codec.decode_body(
            await codec.read_body(request), request.headers.get("Content-Type", ""),
            self.protobuf)
        group, _, version = str(body.get("apiVersion") or "policy/v1").rpartition("/")
        if body.get("kind") in (None, "Eviction"):
            body = decoding.typed_kind(body, group, version, "Eviction")
        if body.get("kind") not in (None, "Eviction"):
            raise errors.bad_request(f"the kind in the data ({body.get('kind')}) does not "
                                     "match the expected kind (Eviction)")
        evicted = (body.get("metadata") or {}).get("name")
        if evicted and evicted != name:
            raise errors.bad_request(
                f"name in URL does not match name in Eviction object: {name} != {evicted}")
        opts = DeleteOptions.from_json(body.get("deleteOptions"), {})
        await check_budgets(self.registry, res, namespace or "default", name)
        await self.registry.delete(res, namespace, name, opts)
        return codec.json_response({"kind": "Status", "apiVersion": "v1", "metadata": {},
                                    "status": "Success", "code": 201}, 201)

    async def bind(
        self, request: web.Request, res: scheme.Resource, namespace: str | None, name: str
    ) -> web.Response:
        body = await codec.decode_body(
            await codec.read_body(request), request.headers.get("Content-Type", ""),
            self.protobuf)
        body = decoding.typed_kind(body, "", "v1", "Binding")
        target = (body.get("target") or {}).get("name")
        if not target:
            raise errors.invalid("Binding", name, [errors.Cause(
                "FieldValueRequired", "Required value", "target.name")])

        def assign(pod: JSON) -> JSON:
            spec = pod.setdefault("spec", {})
            if pod["metadata"].get("deletionTimestamp"):
                raise errors.conflict(res.plural, name, res.group,
                                      f"pod {name} is being deleted, cannot be assigned to a host")
            if spec.get("nodeName"):
                raise errors.conflict(
                    res.plural, name, res.group,
                    f"pod {name} is already assigned to node \"{spec['nodeName']}\"",
                )
            spec["nodeName"] = target
            return pod

        pod = await self.registry.guaranteed_update(res, namespace, name, assign,
                                                    subresource="binding")

        def scheduled(p: JSON) -> JSON:
            status = p.setdefault("status", {})
            conds = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
            conds.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                          "lastTransitionTime": rfc3339(self.clock())})
            status["conditions"] = conds
            return p

        await self.registry.guaranteed_update(res, namespace, name, scheduled,
                                              subresource="status")
        del pod
        return codec.json_response({"kind": "Status", "apiVersion": "v1", "metadata": {},
                                    "status": "Success", "code": 201}, 201)

