"""Request bodies in, responses out: JSON, YAML and protobuf decoding, Accept negotiation,
encoding.

Decoding failures are 400s with the texts kube-apiserver uses; unknown content types 415.
Protobuf bodies (what kubectl's typed clients send) need the Kubernetes schemas, which
:class:`ProtobufSchemas` loads once, in a thread, from an injected descriptor source;
without one they are a 415 that says why. Responses are always JSON.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from kubelite.api import errors, nesting
from kubelite.apiserver import typed, yamlbody
from kubelite.apiserver.patch.patch import media_type
from kubelite.apiserver.protobuf.protobuf import MEDIA_TYPE as PROTOBUF_TYPE
from kubelite.apiserver.protobuf.protobuf import ProtobufDecoder, ProtobufError
from kubelite.apiserver.protobuf.protodesc import NoDescriptors

JSON = dict[str, Any]
JSON_TYPE = "application/json"
MAX_BODY = 3 * 1024 * 1024  # kube-apiserver's default limit on request bodies

YAML_OFF_LOOP = 64 * 1024  # YAML bodies larger than this are decoded in a worker process


async def read_body(request: web.Request) -> bytes:
    """The request body, refusing more than :data:`MAX_BODY` bytes with a 413."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise errors.too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(65536):
        size += len(chunk)
        if size > MAX_BODY:
            raise errors.too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def decode_object(body: bytes, content_type: str,
                  protobuf: ProtobufDecoder | None = None) -> JSON:
    """Decode a JSON, YAML or (given a decoder) protobuf request body, or raise 400/415."""
    mt = media_type(content_type) if content_type else JSON_TYPE
    if mt in ("application/json", "*/*", ""):
        return _decode_json(body)
    if mt in _YAML_TYPES:
        return _decode_yaml(body)
    if mt == PROTOBUF_TYPE and protobuf is not None:
        try:
            return protobuf.decode(body)
        except ProtobufError as exc:
            raise errors.bad_request(str(exc)) from None
    raise errors.unsupported_media_type(content_type)


def is_protobuf(content_type: str) -> bool:
    return bool(content_type) and media_type(content_type) == PROTOBUF_TYPE


class ProtobufSchemas:
    """The protobuf decoder, built on first use from ``source`` (run in a thread).

    ``source`` returns a serialized FileDescriptorSet or raises
    :class:`~kubelite.apiserver.protobuf.protodesc.NoDescriptors`; success is kept for the
    life of the server, failure is retried on the next protobuf body (kubectl may appear
    meanwhile).
    """

    def __init__(self, source: Callable[[], bytes]) -> None:
        self._source = source
        self._decoder: ProtobufDecoder | None = None
        self._lock = asyncio.Lock()

    async def decoder(self) -> ProtobufDecoder:
        if self._decoder is not None:
            return self._decoder
        async with self._lock:
            if self._decoder is None:
                try:
                    self._decoder = await asyncio.to_thread(self._build)
                except (NoDescriptors, ProtobufError) as exc:
                    raise protobuf_unsupported(str(exc)) from None
            return self._decoder

    def _build(self) -> ProtobufDecoder:
        return ProtobufDecoder(self._source())


def protobuf_unsupported(reason: str) -> errors.StatusError:
    return errors.StatusError(
        415, "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types "
        f'include: application/json, application/yaml (got "{PROTOBUF_TYPE}"): '
        f"{PROTOBUF_TYPE} is not supported: {reason}",
    )


async def decode_body(body: bytes, content_type: str,
                      protobuf: ProtobufSchemas | None) -> JSON:
    """:func:`decode_object`, loading the protobuf schemas first when the body needs them."""
    if is_protobuf(content_type):
        if protobuf is None:
            raise protobuf_unsupported("no schema source configured")
        return decode_object(body, content_type, await protobuf.decoder())
    if len(body) > YAML_OFF_LOOP and is_yaml(content_type):
        return _object(await load_yaml(body, "error converting YAML to JSON: "))
    return decode_object(body, content_type)


async def load_yaml(body: bytes, context: str) -> Any:
    """:func:`~kubelite.apiserver.yamlbody.load`, in a worker process for bodies over
    :data:`YAML_OFF_LOOP`: PyYAML composes a document in C holding the GIL (a 3 MB body
    held it for seconds, so a thread would stall the loop as much)."""
    if len(body) <= YAML_OFF_LOOP:
        return yamlbody.load(body, context)
    ok, value = await _YAML_WORKER.run(body, context)
    if not ok:
        raise errors.bad_request(str(value))
    return value



class _YamlWorker:
    """One lazily started ``spawn`` worker process that decodes large YAML bodies, one at a
    time; a worker that died is replaced on the next body (that body is a 400)."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    async def run(self, body: bytes, context: str) -> tuple[bool, Any]:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, yamlbody.load_isolated, body,
                                              context)
        except BrokenProcessPool:
            self._pool = None
            return False, context + "yaml: the document could not be decoded"


_YAML_WORKER = _YamlWorker()


def is_yaml(content_type: str) -> bool:
    return bool(content_type) and media_type(content_type) in _YAML_TYPES


_YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml")


def _decode_json(body: bytes) -> JSON:
    if not body.strip():
        raise errors.bad_request("Object 'Kind' is missing in '" + body.decode(errors="replace") + "'")  # noqa: E501
    return _object(loads_json(body, "couldn't get version/kind; json parse error: "))


def _object(value: Any) -> JSON:
    if not isinstance(value, dict):
        raise errors.bad_request(
            "couldn't get version/kind; json parse error: json: cannot unmarshal "
            f"{typed.json_type(value)} into Go value of type struct {{ APIVersion string "
            '"json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }'
        )
    return value


def loads_json(body: bytes, context: str = "") -> Any:
    """A JSON body, or a 400 whose message starts with ``context``. Its nesting is bounded
    where it becomes an object (``decoding.typed_object``)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise errors.bad_request(context + _json_error_text(exc)) from None


def _decode_yaml(body: bytes) -> JSON:
    return _object(yamlbody.load(body, "error converting YAML to JSON: "))


def _json_error_text(exc: Exception) -> str:
    text = str(exc)
    if any(word in text.lower() for word in ("allocate", "recursion", "depth")):
        return nesting.depth_error("json", nesting.MAX_DEPTH)
    return text.split(":", 1)[0] if "line" in text else text


@dataclass(frozen=True)
class Accept:
    """What the client accepts: a Table (``as=Table``) or plain JSON."""

    table: bool
    table_version: str = "v1"


def negotiate(accept_header: str) -> Accept:
    """Pick Table when the client asks for ``as=Table`` in meta.k8s.io, else JSON.

    Protobuf is never answered; every kubectl request also accepts JSON.
    """
    if "as=Table" not in accept_header:
        return Accept(table=False)
    for part in accept_header.split(","):
        params = {}
        for p in part.split(";")[1:]:
            k, _, v = p.strip().partition("=")
            params[k] = v
        if params.get("as") == "Table" and params.get("g") == "meta.k8s.io":
            return Accept(table=True, table_version=params.get("v", "v1"))
    return Accept(table=False)


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj)


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:  # noqa: E501
    return web.Response(
        body=orjson.dumps(obj), status=status, content_type=JSON_TYPE, headers=headers
    )


def status_response(err: errors.StatusError) -> web.Response:
    return web.Response(body=err.body(), status=err.code, reason=errors.reason_phrase(err.code),
                        content_type=JSON_TYPE, headers=err.headers or None)
