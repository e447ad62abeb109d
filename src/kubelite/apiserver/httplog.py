"""Request lines at ``-v 3``, as kube-apiserver's httplog writes them.

``"HTTP" verb="LIST" URI="/api/v1/pods?limit=500" latency="2.1ms" userAgent="kubectl/..."
srcIP="127.0.0.1:40112" resp=200``: one line per request once it is answered (a watch's
when it ends). The middleware is installed only when the level is enabled, so that a
server at the default verbosity pays nothing for it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from kubelite.apiserver.metrics import request_labels
from kubelite.logs import V

log = logging.getLogger("kubelite.apiserver.httplog")
LEVEL = V(3)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def enabled() -> bool:
    return log.isEnabledFor(LEVEL)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    start = time.perf_counter()
    code = 500
    try:
        response = await handler(request)
        code = response.status
        return response
    except web.HTTPException as exc:
        code = exc.status
        raise
    finally:
        found = request_labels(request)
        verb = found[0][0] if found is not None else request.method
        peer = request.transport.get_extra_info("peername") if request.transport else None
        src = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else ""
        latency = (time.perf_counter() - start) * 1000
        log.log(LEVEL, '"HTTP" verb=%s URI=%s latency="%.3fms" userAgent=%s srcIP=%s resp=%d',
                _quote(verb), _quote(request.path_qs), latency,
                _quote(request.headers.get("User-Agent", "")), _quote(src), code)
