"""kube-apiserver's metrics: the request middleware, storage series and ``/metrics``.

Series (names, labels and buckets as kube-apiserver's):

- ``apiserver_request_total{verb,dry_run,group,version,resource,subresource,scope,
  component,code}`` and ``apiserver_request_duration_seconds`` (same labels less code);
  ``verb`` is reported as kube reports it: GET on one object, LIST on a collection,
  WATCH when ``watch`` is set, POST, PUT, PATCH, APPLY (a server-side apply patch),
  DELETE (collections too), CONNECT for log, exec, attach, portforward and proxy;
  ``scope`` is resource (a named object, or a create), namespace or cluster. Health
  roots count with ``subresource`` = the path and an empty component; other non-resource
  paths (discovery, openapi, version, metrics) with ``subresource`` = their route;
  unknown paths are not counted (bounded cardinality).
- ``apiserver_current_inflight_requests{request_kind=readOnly|mutating}``: requests being
  served now, long-running ones (watches, CONNECT) excluded;
- ``apiserver_longrunning_requests{verb,group,version,resource,subresource,scope,
  component}``: open watches and streams;
- ``apiserver_watch_events_total{group,version,kind}``: events sent to watchers;
- ``apiserver_storage_objects{resource}``: objects stored, counted at each scrape;
- ``etcd_request_duration_seconds{operation,type}`` (the store wrapper), the in-process
  clients' ``rest_client_*`` and ``workqueue_*``, the scheduler's, and the process and
  Python runtime series: everything of one server in one registry.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from kubelite import metrics as kmetrics
from kubelite.api import scheme
from kubelite.apiserver import paths
from kubelite.storage.interface import Store

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

DURATION_BUCKETS = (0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0,
                    4.0, 5.0, 6.0, 8.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0)
CONNECT_SUBRESOURCES = frozenset({"log", "exec", "portforward", "attach", "proxy"})
LONG_RUNNING_SUBRESOURCES = frozenset({"attach", "exec", "proxy", "log", "portforward"})
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HEALTH_ROOTS = frozenset({"/healthz", "/livez", "/readyz"})
NON_RESOURCE_ROUTES = frozenset({"/version", "/metrics", "/api", "/apis", "/openapi/v2",
                                 "/openapi/v3"})
APPLY_PATCH = "application/apply-patch+yaml"

# labels: verb, dry_run, group, version, resource, subresource, scope, component
Labels = tuple[str, str, str, str, str, str, str, str]


def _is_watch(request: web.Request) -> bool:
    values = request.query.getall("watch", [])
    return bool(values) and values[0].lower() not in ("0", "false")


def request_labels(request: web.Request) -> tuple[Labels, bool] | None:
    """The request's labels and whether it is long-running; None: not counted."""
    path = request.path
    method = request.method
    info = paths.parse(path) if path.startswith(("/api/", "/apis/")) else None
    if info is not None and (info.resource is None or (
            info.subresource and info.resource.subresource(info.subresource) is None)):
        return None
    if info is None:
        route = path.rstrip("/") or "/"
        if route.startswith("/apis/") or route.startswith("/api/"):
            route = "/apis" if route.startswith("/apis") else "/api"
        elif route.startswith("/openapi/v3/"):
            route = "/openapi/v3"
        if route in HEALTH_ROOTS:
            return (method, "", "", "", "", route, "", ""), False
        if route in NON_RESOURCE_ROUTES:
            return (method, "", "", "", "", route, "", "apiserver"), False
        return None
    sub = info.subresource or ""
    if info.name or (method == "POST" and not info.name):
        scope = "resource"
    elif info.namespace:
        scope = "namespace"
    else:
        scope = "cluster"
    verb = method
    if verb in ("GET", "HEAD"):
        verb = "GET" if scope == "resource" else "LIST"
    watch = method == "GET" and _is_watch(request)
    if watch:
        verb = "WATCH"
    if verb == "PATCH" and request.headers.get("Content-Type", "").startswith(APPLY_PATCH):
        verb = "APPLY"
    if sub in CONNECT_SUBRESOURCES:
        verb = "CONNECT"
    dry_run = ""
    if "dryRun" in request.query:
        dry_run = ",".join(sorted(set(request.query.getall("dryRun"))))
    long_running = watch or sub in LONG_RUNNING_SUBRESOURCES
    return (verb, dry_run, info.group, info.version, info.plural, sub, scope,
            "apiserver"), long_running


def storage_label(res: scheme.Resource) -> str:
    """kube's ``resource`` label of storage series: ``pods``, ``deployments.apps``."""
    return f"{res.plural}.{res.group}" if res.group else res.plural


class APIServerMetrics:
    """The series of one API server, in its own registry (see the module docstring)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else kmetrics.new_registry()
        r = self.registry
        names = ["verb", "dry_run", "group", "version", "resource", "subresource", "scope",
                 "component"]
        self.requests = Counter(
            "apiserver_request", "Counter of apiserver requests broken out for each verb, "
            "dry run value, group, version, resource, scope, component, and HTTP response "
            "code.", [*names, "code"], registry=r)
        self.duration = Histogram(
            "apiserver_request_duration_seconds", "Response latency distribution in seconds "
            "for each verb, dry run value, group, version, resource, subresource, scope and "
            "component.", names, buckets=DURATION_BUCKETS, registry=r)
        self.inflight = Gauge(
            "apiserver_current_inflight_requests", "Maximal number of currently used "
            "inflight request limit of this apiserver per request kind in last second.",
            ["request_kind"], registry=r)
        self._children: dict[tuple[Labels, int], tuple[Any, Any]] = {}
        # (request, verb, code, seconds) of each answered request: the -v 3 request log
        self.log_request: Callable[[web.Request, str, int, float], None] | None = None
        self._read_only = self.inflight.labels("readOnly")
        self._mutating = self.inflight.labels("mutating")
        self.longrunning = Gauge(
            "apiserver_longrunning_requests", "Gauge of all active long-running apiserver "
            "requests broken out by verb, group, version, resource, scope and component. Not "
            "all requests are tracked this way.",
            ["verb", "group", "version", "resource", "subresource", "scope", "component"],
            registry=r)
        self.watch_events = Counter(
            "apiserver_watch_events", "Number of events sent in watch clients",
            ["group", "version", "kind"], registry=r)
        self.storage_objects = Gauge(
            "apiserver_storage_objects", "Number of stored objects at the time of last check "
            "split by kind.", ["resource"], registry=r)
        # storage name -> resource label; the first resource of a shared one names it
        self._storage: dict[str, str] = {}
        for res in scheme.RESOURCES:
            self._storage.setdefault(res.storage_name, storage_label(res))
        self._types = {name: f"/registry/{name}/" for name in self._storage}

    # -- storage -------------------------------------------------------------------------

    def storage_type(self, key: str) -> str:
        """The ``type`` label of a storage key or prefix: the resource's storage prefix."""
        parts = key.split("/", 5)
        if len(parts) > 3:
            found = self._types.get(parts[2] + "/" + parts[3])
            if found is not None:
                return found
        if len(parts) > 2:
            found = self._types.get(parts[2])
            if found is not None:
                return found
        return "other"

    async def count_storage_objects(self, store: Store) -> None:
        """Set ``apiserver_storage_objects`` from one short list of each resource."""
        for storage_name, label in self._storage.items():
            listing = await store.list(f"/registry/{storage_name}/", limit=1)
            self.storage_objects.labels(label).set(len(listing.items) + listing.remaining)

    # -- watches -------------------------------------------------------------------------

    def watch_counter(self, res: scheme.Resource) -> Callable[[], None]:
        """What a watch of ``res`` calls for each event it sends."""
        return self.watch_events.labels(res.group, res.version, res.kind).inc

    # -- requests ------------------------------------------------------------------------

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Count and time every request; track in-flight and long-running ones; hand
        each answered request to ``log_request`` when one is set (``-v 3``)."""
        found = request_labels(request)
        start = time.perf_counter()
        gauge = None
        if found is None:
            pass
        elif found[1]:
            verb, _, group, version, resource, sub, scope, component = found[0]
            gauge = self.longrunning.labels(verb, group, version, resource, sub, scope,
                                            component)
        elif request.method in READ_ONLY_METHODS:
            gauge = self._read_only
        else:
            gauge = self._mutating
        if gauge is not None:
            gauge.inc()
        code = 500
        try:
            response = await handler(request)
            code = response.status
            return response
        except web.HTTPException as exc:
            code = exc.status
            raise
        finally:
            if gauge is not None:
                gauge.dec()
            seconds = time.perf_counter() - start
            if found is not None:
                self._count(found[0], code, seconds)
            if self.log_request is not None:
                self.log_request(request, found[0][0] if found else request.method, code,
                                 seconds)

    def _count(self, labels: Labels, code: int, seconds: float) -> None:
        # label lookups are the costly part: children are kept per label set
        key = (labels, code)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (self.requests.labels(*labels, str(code)),
                                               self.duration.labels(*labels))
        children[0].inc()
        children[1].observe(seconds)

    async def handle_metrics(self, request: web.Request, store: Store) -> web.Response:
        await self.count_storage_objects(store)
        body = kmetrics.render(self.registry)
        return web.Response(body=body, headers={"Content-Type": kmetrics.CONTENT_TYPE})
