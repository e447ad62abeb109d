"""``/healthz``, ``/livez`` and ``/readyz`` with their per-check endpoints, as kube-apiserver.

Contract (kube's healthz package):

- ``GET /<path>``: "ok" when every check passes; with ``?verbose`` one ``[+]NAME ok`` line
  per check and ``<path> check passed``. ``?exclude=NAME`` skips a check (``[+]NAME
  excluded: ok``; an unknown name adds a ``warn:`` line). Any failure answers 500 with the
  verbose list, failures as ``[-]NAME failed: reason withheld``, then ``<path> check
  failed``; the reason itself goes to the log only.
- ``GET /<path>/NAME``: "ok", or 500 ``internal server error: REASON``; an unknown NAME
  is a 404 (the route does not exist).
- The checks: ping and log always pass; etcd passes once storage is open (the server
  started); readyz adds etcd-readiness (the same) and shutdown (fails while stopping).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

log = logging.getLogger(__name__)

Check = Callable[[], str | None]  # None: healthy; else the reason
TEXT = "text/plain"
Handler = Callable[[web.Request], Awaitable[web.Response]]


class HealthChecks:
    """The checks of the three health paths, over two facts: started and stopping."""

    def __init__(self, started: Callable[[], bool], stopping: Callable[[], bool]) -> None:
        def ping() -> str | None:
            return None

        def storage() -> str | None:
            return None if started() else "storage is not open yet"

        def shutdown() -> str | None:
            return "process is shutting down" if stopping() else None

        base: list[tuple[str, Check]] = [("ping", ping), ("log", ping), ("etcd", storage)]
        self.paths: dict[str, list[tuple[str, Check]]] = {
            "healthz": base,
            "livez": base,
            "readyz": [*base, ("etcd-readiness", storage), ("shutdown", shutdown)],
        }

    def add_routes(self, app: web.Application) -> None:
        for path, checks in self.paths.items():
            app.router.add_get(f"/{path}", self._root(path, checks))
            for name, check in checks:
                app.router.add_get(f"/{path}/{name}", self._single(check))

    @staticmethod
    def _single(check: Check) -> Handler:
        async def handle(request: web.Request) -> web.Response:
            reason = check()
            if reason is None:
                return web.Response(text="ok", content_type=TEXT)
            return web.Response(text=f"internal server error: {reason}\n", status=500,
                                content_type=TEXT)
        return handle

    @staticmethod
    def _root(path: str, checks: list[tuple[str, Check]]) -> Handler:
        async def handle(request: web.Request) -> web.Response:
            excluded = set(request.query.getall("exclude", []))
            lines: list[str] = []
            failed: list[str] = []
            for name, check in checks:
                if name in excluded:
                    excluded.discard(name)
                    lines.append(f"[+]{name} excluded: ok")
                    continue
                reason = check()
                if reason is None:
                    lines.append(f"[+]{name} ok")
                else:
                    lines.append(f"[-]{name} failed: reason withheld")
                    failed.append(f"{name}: {reason}")
            if excluded:
                names = ",".join(f'"{n}"' for n in sorted(excluded))
                lines.append(f"warn: some health checks cannot be excluded: no matches for "
                             f"{names}")
            if failed:
                log.info("%s check failed: %s", path, "; ".join(failed))
                return web.Response(text="\n".join(lines) + f"\n{path} check failed\n",
                                    status=500, content_type=TEXT)
            if "verbose" not in request.query:
                return web.Response(text="ok", content_type=TEXT)
            return web.Response(text="\n".join(lines) + f"\n{path} check passed\n",
                                content_type=TEXT)
        return handle
