"""Request lines at ``-v 3``, as kube-apiserver's httplog writes them.

``"HTTP" verb="LIST" URI="/api/v1/pods?limit=500" latency="2.1ms" userAgent="kubectl/..."
srcIP="127.0.0.1:40112" resp=200``: one line per request once it is answered (a watch's
when it ends), written from the metrics middleware, which already times every request;
the server hands it :func:`log_request` only when the level is enabled, so that at the
default verbosity nothing is formatted.
"""

from __future__ import annotations

import logging

from aiohttp import web

from kubelite.logs import V

log = logging.getLogger("kubelite.apiserver.httplog")
LEVEL = V(3)


def enabled() -> bool:
    return log.isEnabledFor(LEVEL)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def log_request(request: web.Request, verb: str, code: int, seconds: float) -> None:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    src = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else ""
    log.log(LEVEL, '"HTTP" verb=%s URI=%s latency="%.3fms" userAgent=%s srcIP=%s resp=%d',
            _quote(verb), _quote(request.path_qs), seconds * 1000,
            _quote(request.headers.get("User-Agent", "")), _quote(src), code)
