"""SPDY/3.1 framing, as kubectl (moby/spdystream) speaks it.

Control frames: ``0x80 0x03 | type:u16 | flags:u8 | length:u24 | payload``.
Data frames: ``streamId:u32 (high bit 0) | flags:u8 | length:u24 | data``.

Header blocks are ``u32 count, {u32 len, name, u32 len, value}*`` (several values of one
name are NUL-separated), compressed with one zlib stream per direction for the whole
connection, primed with the SPDY/3 dictionary and sync-flushed after every block. So a
:class:`HeaderCodec` belongs to exactly one connection and must see every block of that
connection in order.

Everything here is pure: :class:`FrameParser` cuts frames out of arbitrary byte chunks and
``encode_*`` functions build frames.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from importlib import resources

VERSION = 3

# control frame types
SYN_STREAM = 1
SYN_REPLY = 2
RST_STREAM = 3
SETTINGS = 4
PING = 6
GOAWAY = 7
HEADERS = 8
WINDOW_UPDATE = 9

FLAG_FIN = 0x01
FLAG_UNIDIRECTIONAL = 0x02

# RST_STREAM status codes
PROTOCOL_ERROR = 1
INVALID_STREAM = 2
REFUSED_STREAM = 3
CANCEL = 5
INTERNAL_ERROR = 6
STREAM_ALREADY_CLOSED = 9

MAX_DATA_LENGTH = 0xFFFFFF

DICTIONARY: bytes = (
    resources.files("kubelite.streaming").joinpath("spdy_dictionary.bin").read_bytes()
)
assert len(DICTIONARY) == 1423, "the SPDY/3 header dictionary is 1423 bytes"

Headers = dict[str, list[str]]


class SpdyProtocolError(Exception):
    """The peer sent bytes that are not valid SPDY/3.1."""


@dataclass(frozen=True)
class DataFrame:
    stream_id: int
    flags: int
    data: bytes

    @property
    def fin(self) -> bool:
        return bool(self.flags & FLAG_FIN)


@dataclass(frozen=True)
class ControlFrame:
    """A decoded control frame. Which fields mean something depends on ``type``."""

    type: int
    flags: int = 0
    stream_id: int = 0  # SYN_STREAM, SYN_REPLY, RST_STREAM, HEADERS, WINDOW_UPDATE
    associated_id: int = 0  # SYN_STREAM
    priority: int = 0  # SYN_STREAM
    status: int = 0  # RST_STREAM, GOAWAY
    ping_id: int = 0  # PING
    last_stream_id: int = 0  # GOAWAY
    delta: int = 0  # WINDOW_UPDATE
    headers: Headers = field(default_factory=dict)  # SYN_STREAM, SYN_REPLY, HEADERS
    payload: bytes = b""  # SETTINGS and unknown types, undecoded

    @property
    def fin(self) -> bool:
        return bool(self.flags & FLAG_FIN)


Frame = DataFrame | ControlFrame


class HeaderCodec:
    """One direction's header compression state (compress *or* decompress side)."""

    def __init__(self) -> None:
        self._c = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY, DICTIONARY)
        self._d = zlib.decompressobj(zdict=DICTIONARY)

    def encode(self, headers: Headers) -> bytes:
        raw = bytearray(struct.pack(">I", len(headers)))
        for name, values in headers.items():
            n = name.lower().encode()
            v = b"\x00".join(x.encode() for x in values)
            raw += struct.pack(">I", len(n)) + n + struct.pack(">I", len(v)) + v
        return self._c.compress(bytes(raw)) + self._c.flush(zlib.Z_SYNC_FLUSH)

    def decode(self, block: bytes) -> Headers:
        try:
            raw = self._d.decompress(block)
        except zlib.error as exc:
            raise SpdyProtocolError(f"bad header block: {exc}") from None
        try:
            (count,) = struct.unpack_from(">I", raw, 0)
            pos = 4
            out: Headers = {}
            for _ in range(count):
                (n,) = struct.unpack_from(">I", raw, pos)
                name = raw[pos + 4 : pos + 4 + n].decode()
                pos += 4 + n
                (n,) = struct.unpack_from(">I", raw, pos)
                value = raw[pos + 4 : pos + 4 + n].decode()
                pos += 4 + n
                out.setdefault(name.lower(), []).extend(value.split("\x00"))
        except (struct.error, UnicodeDecodeError) as exc:
            raise SpdyProtocolError(f"bad header block: {exc}") from None
        return out


def _control(type_: int, flags: int, payload: bytes) -> bytes:
    if len(payload) > MAX_DATA_LENGTH:
        raise ValueError("control frame too long")
    return struct.pack(">HHI", 0x8000 | VERSION, type_, (flags << 24) | len(payload)) + payload


def encode_data(stream_id: int, data: bytes, fin: bool = False) -> bytes:
    if len(data) > MAX_DATA_LENGTH:
        raise ValueError("data frame too long")
    flags = FLAG_FIN if fin else 0
    return struct.pack(">II", stream_id & 0x7FFFFFFF, (flags << 24) | len(data)) + data


def encode_syn_stream(
    codec: HeaderCodec, stream_id: int, headers: Headers, *, fin: bool = False,
    associated_id: int = 0, priority: int = 0,
) -> bytes:
    payload = struct.pack(">IIBB", stream_id, associated_id, (priority & 7) << 5, 0)
    return _control(SYN_STREAM, FLAG_FIN if fin else 0, payload + codec.encode(headers))


def encode_syn_reply(
    codec: HeaderCodec, stream_id: int, headers: Headers, *, fin: bool = False
) -> bytes:
    payload = struct.pack(">I", stream_id) + codec.encode(headers)
    return _control(SYN_REPLY, FLAG_FIN if fin else 0, payload)


def encode_rst_stream(stream_id: int, status: int) -> bytes:
    return _control(RST_STREAM, 0, struct.pack(">II", stream_id, status))


def encode_ping(ping_id: int) -> bytes:
    return _control(PING, 0, struct.pack(">I", ping_id))


def encode_goaway(last_stream_id: int, status: int = 0) -> bytes:
    return _control(GOAWAY, 0, struct.pack(">II", last_stream_id, status))


def encode_window_update(stream_id: int, delta: int) -> bytes:
    return _control(WINDOW_UPDATE, 0, struct.pack(">II", stream_id, delta))


def encode_settings(settings: dict[int, int]) -> bytes:
    payload = struct.pack(">I", len(settings))
    for key, value in settings.items():
        payload += struct.pack(">II", key & 0xFFFFFF, value)
    return _control(SETTINGS, 0, payload)


class FrameParser:
    """Cuts frames out of a byte stream fed in arbitrary chunks.

    Header blocks are decompressed in arrival order with this parser's own
    :class:`HeaderCodec`, so one parser serves one direction of one connection.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._codec = HeaderCodec()

    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
        frames: list[Frame] = []
        while len(self._buf) >= 8:
            length = int.from_bytes(self._buf[5:8], "big")
            if len(self._buf) < 8 + length:
                break
            head = bytes(self._buf[:8])
            payload = bytes(self._buf[8 : 8 + length])
            del self._buf[: 8 + length]
            frames.append(self._frame(head, payload))
        return frames

    @property
    def pending(self) -> int:
        """Bytes buffered that do not yet make a whole frame."""
        return len(self._buf)

    def _frame(self, head: bytes, payload: bytes) -> Frame:
        flags = head[4]
        if not head[0] & 0x80:
            stream_id = int.from_bytes(head[0:4], "big")
            return DataFrame(stream_id, flags, payload)
        version = int.from_bytes(head[0:2], "big") & 0x7FFF
        if version != VERSION:
            raise SpdyProtocolError(f"unsupported SPDY version {version}")
        type_ = int.from_bytes(head[2:4], "big")
        try:
            return self._control(type_, flags, payload)
        except struct.error:
            raise SpdyProtocolError(f"short control frame of type {type_}") from None

    def _control(self, type_: int, flags: int, p: bytes) -> ControlFrame:
        if type_ == SYN_STREAM:
            sid, assoc, prio, _slot = struct.unpack_from(">IIBB", p)
            return ControlFrame(type_, flags, stream_id=sid & 0x7FFFFFFF,
                                associated_id=assoc & 0x7FFFFFFF, priority=prio >> 5,
                                headers=self._codec.decode(p[10:]))
        if type_ in (SYN_REPLY, HEADERS):
            (sid,) = struct.unpack_from(">I", p)
            return ControlFrame(type_, flags, stream_id=sid & 0x7FFFFFFF,
                                headers=self._codec.decode(p[4:]))
        if type_ == RST_STREAM:
            sid, status = struct.unpack_from(">II", p)
            return ControlFrame(type_, flags, stream_id=sid & 0x7FFFFFFF, status=status)
        if type_ == PING:
            (ping_id,) = struct.unpack_from(">I", p)
            return ControlFrame(type_, flags, ping_id=ping_id)
        if type_ == GOAWAY:
            last, status = struct.unpack_from(">II", p)
            return ControlFrame(type_, flags, last_stream_id=last & 0x7FFFFFFF, status=status)
        if type_ == WINDOW_UPDATE:
            sid, delta = struct.unpack_from(">II", p)
            return ControlFrame(type_, flags, stream_id=sid & 0x7FFFFFFF,
                                delta=delta & 0x7FFFFFFF)
        return ControlFrame(type_, flags, payload=p)
