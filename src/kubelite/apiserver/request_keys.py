"""Typed keys for what handlers and middlewares leave on a request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from kubelite.api import scheme
from kubelite.apiserver.auth import User

JSONFn = Callable[[dict[str, Any]], dict[str, Any]]

USER = web.RequestKey("user", User)
WARNINGS: web.RequestKey[list[str]] = web.RequestKey("warnings")
# For resources stored in another version's shape (events.k8s.io events):
ADDRESSED = web.RequestKey("addressed", scheme.Resource)  # what the client asked for
TO_STORAGE: web.RequestKey[JSONFn] = web.RequestKey("to_storage")
FROM_STORAGE: web.RequestKey[JSONFn] = web.RequestKey("from_storage")
