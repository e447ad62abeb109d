"""``ApiClient``: typed REST calls against the Kubernetes API over aiohttp.

Contract: every method takes a :class:`kubelite.api.scheme.Resource`; an error answer
raises :class:`~kubelite.api.errors.StatusError` with the server's code, reason and
message; a transport failure raises :class:`~kubelite.client.errors.ConnectionFailed`.
Objects are plain JSON dicts (rule 7: typed at the boundary by the scheme).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
import orjson

from kubelite.api import scheme
from kubelite.api.errors import StatusError
from kubelite.api.meta import JSON
from kubelite.client.config import ClientConfig
from kubelite.client.errors import ConnectionFailed
from kubelite.client.metrics import ClientMetrics

PATCH_TYPES = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
}


@dataclass(frozen=True)
class WatchEvent:
    """One watch event: ADDED, MODIFIED, DELETED, BOOKMARK (ERROR is raised instead)."""

    type: str
    object: JSON


def _status_error(code: int, body: bytes) -> StatusError:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        doc = None
    if isinstance(doc, dict) and doc.get("kind") == "Status":
        return StatusError(int(doc.get("code") or code), str(doc.get("reason") or ""),
                           str(doc.get("message") or ""), doc.get("details"))
    return StatusError(code, "", body.decode(errors="replace").strip() or f"HTTP {code}")


def _namespace_of(res: scheme.Resource, namespace: str | None,
                  obj: JSON | None = None) -> str | None:
    if not res.namespaced:
        return None
    if namespace:
        return namespace
    if obj is not None:
        ns = (obj.get("metadata") or {}).get("namespace")
        if ns:
            return str(ns)
    return None


class ApiClient:
    """An HTTP session to one API server. Use as ``async with`` or call :meth:`close`."""

    def __init__(self, config: ClientConfig, *, user_agent: str = "kubelite",
                 metrics: ClientMetrics | None = None) -> None:
        """``metrics``: where ``rest_client_*`` series of this client's calls go."""
        self.config = config
        self.metrics = metrics
        self._host = urlsplit(config.base_url).netloc
        headers = {"User-Agent": user_agent, "Accept": "application/json"}
        if config.token:
            headers["Authorization"] = f"Bearer {config.token}"
        self._headers = headers
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(ssl=self.config.ssl_context or False, limit=64)
            self._session = aiohttp.ClientSession(
                connector=connector, headers=self._headers,
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- paths ---------------------------------------------------------------------------

    def path(self, res: scheme.Resource, namespace: str | None = None, name: str | None = None,
             subresource: str | None = None) -> str:
        base = f"/api/{res.version}" if not res.group else f"/apis/{res.group}/{res.version}"
        if res.namespaced and namespace:
            base += f"/namespaces/{quote(namespace, safe='')}"
        base += f"/{res.plural}"
        if name is not None:
            base += f"/{quote(name, safe='')}"
            if subresource:
                base += f"/{subresource}"
        return base

    # -- raw -----------------------------------------------------------------------------

    async def request(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                      body: Any = None, content_type: str = "application/json",
                      timeout: float | None = 60.0) -> JSON:  # noqa: ASYNC109
        """One request; the decoded JSON answer, or StatusError / ConnectionFailed."""
        data = orjson.dumps(body) if body is not None else None
        headers = {"Content-Type": content_type} if data is not None else None
        start = time.monotonic()
        code = "<error>"
        try:
            async with self.session.request(
                method, self.config.base_url + path, params=dict(params or {}), data=data,
                headers=headers, timeout=aiohttp.ClientTimeout(total=timeout),
            ) as resp:
                code = str(resp.status)
                raw = await resp.read()
                if resp.status >= 400:
                    raise _status_error(resp.status, raw)
                result: JSON = orjson.loads(raw) if raw else {}
                return result
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise ConnectionFailed(f"{method} {path}: {exc or type(exc).__name__}") from exc
        finally:
            if self.metrics is not None:
                self.metrics.record_request(self._host, method, code, time.monotonic() - start)

    # -- verbs ---------------------------------------------------------------------------

    async def get(self, res: scheme.Resource, name: str, namespace: str | None = None,
                  subresource: str | None = None) -> JSON:
        return await self.request("GET", self.path(res, _namespace_of(res, namespace), name,
                                                   subresource))

    async def list(self, res: scheme.Resource, namespace: str | None = None, *,
                   label_selector: str | None = None, field_selector: str | None = None,
                   resource_version: str | None = None, limit: int | None = None) -> JSON:
        """The list object (``items``, ``metadata.resourceVersion``); all namespaces when
        ``namespace`` is None."""
        params = _selectors(label_selector, field_selector)
        if resource_version is not None:
            params["resourceVersion"] = resource_version
        if limit:
            params["limit"] = str(limit)
        return await self.request("GET", self.path(res, namespace), params=params)

    async def watch(self, res: scheme.Resource, namespace: str | None = None, *,
                    resource_version: str | None = None, label_selector: str | None = None,
                    field_selector: str | None = None, timeout_seconds: int | None = None,
                    allow_bookmarks: bool = True) -> AsyncIterator[WatchEvent]:
        """Stream events until the server ends the watch. An ERROR event raises its
        StatusError (410 Expired: re-list)."""
        params = _selectors(label_selector, field_selector)
        params["watch"] = "true"
        if resource_version is not None:
            params["resourceVersion"] = resource_version
        if timeout_seconds is not None:
            params["timeoutSeconds"] = str(timeout_seconds)
        if allow_bookmarks:
            params["allowWatchBookmarks"] = "true"
        url = self.config.base_url + self.path(res, namespace)
        start = time.monotonic()
        try:
            async with self.session.get(url, params=params,
                                        timeout=aiohttp.ClientTimeout(total=None,
                                                                      sock_read=None)) as resp:
                if self.metrics is not None:
                    self.metrics.record_request(self._host, "GET", str(resp.status),
                                                time.monotonic() - start)
                if resp.status >= 400:
                    raise _status_error(resp.status, await resp.read())
                while True:
                    line = await resp.content.readline()
                    if not line:
                        return
                    line = line.strip()
                    if not line:
                        continue
                    ev = orjson.loads(line)
                    if ev.get("type") == "ERROR":
                        obj = ev.get("object") or {}
                        raise StatusError(int(obj.get("code") or 500), str(obj.get("reason") or ""),
                                          str(obj.get("message") or ""))
                    yield WatchEvent(str(ev.get("type")), ev.get("object") or {})
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise ConnectionFailed(f"watch {res.plural}: {exc or type(exc).__name__}") from exc

    async def create(self, res: scheme.Resource, obj: JSON, namespace: str | None = None) -> JSON:
        return await self.request("POST", self.path(res, _namespace_of(res, namespace, obj)),
                                  body=obj)

    async def create_subresource(self, res: scheme.Resource, name: str, subresource: str,
                                 body: JSON, namespace: str | None = None) -> JSON:
        """POST to a subresource (e.g. ``pods/binding``)."""
        path = self.path(res, _namespace_of(res, namespace), name, subresource)
        return await self.request("POST", path, body=body)

    async def update(self, res: scheme.Resource, obj: JSON, namespace: str | None = None,
                     subresource: str | None = None) -> JSON:
        """PUT; ``metadata.resourceVersion`` in ``obj`` makes it conditional (409 Conflict)."""
        name = obj["metadata"]["name"]
        path = self.path(res, _namespace_of(res, namespace, obj), name, subresource)
        return await self.request("PUT", path, body=obj)

    async def update_status(self, res: scheme.Resource, obj: JSON) -> JSON:
        return await self.update(res, obj, subresource="status")

    async def patch(self, res: scheme.Resource, name: str, patch: Any,
                    namespace: str | None = None, *, patch_type: str = "merge",
                    subresource: str | None = None) -> JSON:
        """PATCH with ``patch_type`` merge, json or strategic."""
        path = self.path(res, _namespace_of(res, namespace), name, subresource)
        return await self.request("PATCH", path, body=patch,
                                  content_type=PATCH_TYPES[patch_type])

    async def delete(self, res: scheme.Resource, name: str, namespace: str | None = None, *,
                     grace_period_seconds: int | None = None, uid: str | None = None,
                     resource_version: str | None = None,
                     propagation_policy: str | None = None) -> JSON:
        """DELETE with DeleteOptions; ``uid`` / ``resource_version`` are preconditions."""
        opts: JSON = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if grace_period_seconds is not None:
            opts["gracePeriodSeconds"] = grace_period_seconds
        pre: JSON = {}
        if uid:
            pre["uid"] = uid
        if resource_version:
            pre["resourceVersion"] = resource_version
        if pre:
            opts["preconditions"] = pre
        if propagation_policy:
            opts["propagationPolicy"] = propagation_policy
        return await self.request("DELETE", self.path(res, _namespace_of(res, namespace), name),
                                  body=opts)


def _selectors(label_selector: str | None, field_selector: str | None) -> dict[str, str]:
    params: dict[str, str] = {}
    if label_selector:
        params["labelSelector"] = label_selector
    if field_selector:
        params["fieldSelector"] = field_selector
    return params
