"""The one place where a request's failure becomes a ``metav1.Status`` response.

:func:`status_middleware` is the outermost aiohttp middleware of the API server. Contract:

- a :class:`~kubelite.api.errors.StatusError` leaves as its Status, with its code;
- aiohttp's own 404/405/413 become the Status kube sends for them;
- any other exception (including ``RecursionError`` and ``MemoryError``) is logged once,
  with its traceback, and leaves as a 500 ``InternalError`` whose message carries no Python
  text (no exception type, no repr of input): clients learn only that the server failed;
- cancellation and a reset connection propagate (nobody is left to answer).

Warnings a handler collected (``request_keys.WARNINGS``) are sent as ``Warning: 299``
headers on the response, if it has not been sent yet.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from kubelite.api import errors
from kubelite.apiserver import codec
from kubelite.apiserver import request_keys as keys

log = logging.getLogger("kubelite.apiserver")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

INTERNAL_MESSAGE = "the server could not handle the request; the server log has the details"


def internal_error() -> errors.StatusError:
    """The generic 500 (``Internal error occurred: ...``) for an unexpected failure."""
    return errors.internal(INTERNAL_MESSAGE)


def _warning(text: str) -> str:
    """A ``Warning`` header value: quoted, with control characters (which HTTP forbids in
    headers) shown as spaces."""
    clean = "".join(ch if ch.isprintable() else " " for ch in text)
    return '299 - "' + clean.replace("\\", "\\\\").replace('"', '\\"') + '"'


@web.middleware
async def status_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
        for text in request.get(keys.WARNINGS) or ():
            if not response.prepared:
                response.headers.add("Warning", _warning(text))
        return response
    except errors.StatusError as exc:
        return codec.status_response(exc)
    except web.HTTPNotFound:
        return codec.status_response(errors.StatusError(
            404, "NotFound", "the server could not find the requested resource"))
    except web.HTTPMethodNotAllowed:
        return codec.status_response(errors.method_not_allowed())
    except web.HTTPRequestEntityTooLarge:
        return codec.status_response(errors.too_large())
    except web.HTTPException:
        raise
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return codec.status_response(internal_error())
