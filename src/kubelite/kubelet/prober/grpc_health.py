"""A minimal gRPC client for ``grpc.health.v1.Health/Check`` over HTTP/2 cleartext.

Contract: one unary call per connection (as the kubelet's grpc prober, which dials,
checks and closes); returns the serving status name or raises :class:`GrpcError`
carrying the gRPC status code name and message. The protobuf messages are encoded by
hand: ``HealthCheckRequest{string service = 1}``, ``HealthCheckResponse{enum status = 1}``.
"""

from __future__ import annotations

import asyncio
import urllib.parse

import h2.config
import h2.connection
import h2.events

CODES = ["OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
         "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
         "Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss",
         "Unauthenticated"]
STATUSES = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"]
PATH = "/grpc.health.v1.Health/Check"


class GrpcError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"rpc error: code = {code} desc = {message}")
        self.code = code
        self.message = message


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def encode_request(service: str) -> bytes:
    raw = service.encode()
    msg = b"\x0a" + _varint(len(raw)) + raw if raw else b""
    return b"\x00" + len(msg).to_bytes(4, "big") + msg


def decode_status(frame: bytes) -> str:
    """The status name in a length-prefixed HealthCheckResponse."""
    if len(frame) < 5:
        raise GrpcError("Internal", "short response message")
    msg = frame[5:5 + int.from_bytes(frame[1:5], "big")]
    i, value = 0, 0
    while i < len(msg):
        key = msg[i]
        i += 1
        field, wire = key >> 3, key & 7
        if wire == 0:
            v, shift = 0, 0
            while True:
                b = msg[i]
                i += 1
                v |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
            if field == 1:
                value = v
        elif wire == 2:
            n, shift = 0, 0
            while True:
                b = msg[i]
                i += 1
                n |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
            i += n
        else:
            raise GrpcError("Internal", "unexpected wire type in response")
    return STATUSES[value] if value < len(STATUSES) else str(value)


async def check(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, authority: str,
                service: str, user_agent: str) -> str:
    """Run one Health/Check on an open connection; the caller bounds it in time."""
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True,
                                                                header_encoding=None))
    conn.initiate_connection()
    sid = conn.get_next_available_stream_id()
    conn.send_headers(sid, [(b":method", b"POST"), (b":scheme", b"http"),
                            (b":path", PATH.encode()), (b":authority", authority.encode()),
                            (b"content-type", b"application/grpc"), (b"te", b"trailers"),
                            (b"user-agent", user_agent.encode())])
    conn.send_data(sid, encode_request(service), end_stream=True)
    writer.write(conn.data_to_send())
    await writer.drain()
    body = bytearray()
    headers: dict[bytes, bytes] = {}
    ended = False
    while not ended:
        data = await reader.read(65536)
        if not data:
            raise GrpcError("Unavailable", "connection closed before the response")
        for ev in conn.receive_data(data):
            if isinstance(ev, h2.events.ResponseReceived | h2.events.TrailersReceived):
                headers.update({bytes(k): bytes(v) for k, v in ev.headers})
            elif isinstance(ev, h2.events.DataReceived):
                body += ev.data
                conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id == sid:
                ended = True
            elif isinstance(ev, h2.events.StreamReset):
                raise GrpcError("Unavailable", f"stream reset with code {ev.error_code}")
            elif isinstance(ev, h2.events.ConnectionTerminated):
                raise GrpcError("Unavailable", "connection terminated by the server")
        out = conn.data_to_send()
        if out:
            writer.write(out)
    http_status = headers.get(b":status", b"")
    if http_status != b"200":
        raise GrpcError("Unknown", f"unexpected HTTP status code {http_status.decode()}")
    code = int(headers.get(b"grpc-status", b"2"))
    if code != 0:
        msg = urllib.parse.unquote(headers.get(b"grpc-message", b"").decode())
        raise GrpcError(CODES[code] if code < len(CODES) else f"Code({code})", msg)
    return decode_status(bytes(body))
