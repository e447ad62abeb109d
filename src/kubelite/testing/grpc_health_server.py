"""A gRPC ``grpc.health.v1.Health`` server over HTTP/2 cleartext, for tests and benches.

``statuses`` maps a service name ("" is the server as a whole) to a serving status name
(SERVING, NOT_SERVING, ...); change it at any time. A service it does not know answers
NotFound "unknown service", as the reference health server does; any other method
answers Unimplemented.
"""

from __future__ import annotations

import asyncio
import contextlib

import h2.config
import h2.connection
import h2.events
import h2.exceptions

STATUSES = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"]


def _decode_service(frame: bytes) -> str:
    msg = frame[5:]
    if len(msg) >= 2 and msg[0] == 0x0A:
        n, i, shift = 0, 1, 0
        while True:
            b = msg[i]
            i += 1
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        return msg[i:i + n].decode()
    return ""


class GrpcHealthServer:
    def __init__(self, statuses: dict[str, str] | None = None) -> None:
        self.statuses = statuses if statuses is not None else {"": "SERVING"}
        self.calls: list[str] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> GrpcHealthServer:
        self.server = await asyncio.start_server(self._serve, host, port)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False,
                                                                    header_encoding=None))
        conn.initiate_connection()
        writer.write(conn.data_to_send())
        paths: dict[int, bytes] = {}
        bodies: dict[int, bytearray] = {}
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    return
                for ev in conn.receive_data(data):
                    if isinstance(ev, h2.events.RequestReceived):
                        paths[ev.stream_id] = dict(ev.headers).get(b":path", b"")
                        bodies[ev.stream_id] = bytearray()
                    elif isinstance(ev, h2.events.DataReceived):
                        bodies.setdefault(ev.stream_id, bytearray()).extend(ev.data)
                        conn.acknowledge_received_data(ev.flow_controlled_length,
                                                       ev.stream_id)
                    elif isinstance(ev, h2.events.StreamEnded):
                        self._answer(conn, ev.stream_id, paths.pop(ev.stream_id, b""),
                                     bytes(bodies.pop(ev.stream_id, b"")))
                    elif isinstance(ev, h2.events.ConnectionTerminated):
                        return
                writer.write(conn.data_to_send())
                await writer.drain()
        except (OSError, h2.exceptions.ProtocolError):
            return
        finally:
            with contextlib.suppress(OSError):
                writer.close()

    def _answer(self, conn: h2.connection.H2Connection, sid: int, path: bytes,
                body: bytes) -> None:
        conn.send_headers(sid, [(b":status", b"200"), (b"content-type", b"application/grpc")])
        if path != b"/grpc.health.v1.Health/Check":
            conn.send_headers(sid, [(b"grpc-status", b"12"),
                                    (b"grpc-message", b"unknown service")], end_stream=True)
            return
        service = _decode_service(body)
        self.calls.append(service)
        status = self.statuses.get(service)
        if status is None:
            conn.send_headers(sid, [(b"grpc-status", b"5"),
                                    (b"grpc-message", b"unknown service")], end_stream=True)
            return
        msg = b"\x08" + bytes([STATUSES.index(status)]) if status in STATUSES else b""
        conn.send_data(sid, b"\x00" + len(msg).to_bytes(4, "big") + msg)
        conn.send_headers(sid, [(b"grpc-status", b"0")], end_stream=True)
