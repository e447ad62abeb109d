"""The channel protocols' names, frame codec and the error-stream Status documents.

WebSocket (``v4``/``v5.channel.k8s.io``): every message's first byte is the channel, the
rest its payload. Binary messages carry bytes; text messages (what the Python client sends)
carry the channel as their first character and UTF-8 text after it. ``v5`` adds channel
255 ("close"): ``[255, channel]`` half-closes that channel (the client's stdin EOF). SPDY
carries the same streams as separate SPDY streams, named by their ``streamtype`` header.

Port-forward over WebSocket channels: port *i* of the request has data channel ``2i`` and
error channel ``2i+1``; the first frame the server sends on each is the port number, two
bytes little-endian.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
WEBSOCKET_PROTOCOLS = (V5, V4)
SPDY_PROTOCOLS = (V5, V4)
PORT_FORWARD_PROTOCOL = "portforward.k8s.io"
PORT_FORWARD_TUNNEL_PROTOCOL = "SPDY/3.1+portforward.k8s.io"
# WebSocket port-forward: the SPDY tunnel (kubectl) first, then the channel protocols.
PORT_FORWARD_WEBSOCKET_PROTOCOLS = (PORT_FORWARD_TUNNEL_PROTOCOL, V4, PORT_FORWARD_PROTOCOL)

STDIN = 0
STDOUT = 1
STDERR = 2
ERROR = 3
RESIZE = 4
CLOSE = 255

STREAM_TYPES = {"stdin": STDIN, "stdout": STDOUT, "stderr": STDERR, "error": ERROR,
                "resize": RESIZE}


def frame(channel: int, payload: bytes = b"") -> bytes:
    """A channel message: the channel byte, then the payload."""
    return bytes((channel,)) + payload


def split(message: bytes) -> tuple[int, bytes]:
    """(channel, payload) of a channel message; raises ValueError when empty."""
    if not message:
        raise ValueError("empty channel message")
    return message[0], message[1:]


def split_text(message: str) -> tuple[int, bytes]:
    """(channel, payload) of a text message: the first character is the channel number,
    the rest is sent as UTF-8. Raises ValueError when empty or the channel is over 255."""
    if not message:
        raise ValueError("empty channel message")
    ch = ord(message[0])
    if ch > CLOSE:
        raise ValueError(f"channel {ch} out of range")
    return ch, message[1:].encode()


def decode_message(text: bool, data: str | bytes) -> tuple[int, bytes] | None:
    """(channel, payload) of a received WebSocket message, text or binary; None for an
    empty or malformed one (which the protocol ignores)."""
    try:
        if text:
            return split_text(data if isinstance(data, str) else data.decode())
        return split(bytes(data) if not isinstance(data, str) else data.encode())
    except (ValueError, UnicodeDecodeError):
        return None


def port_prefix(port: int) -> bytes:
    """The first frame's payload on a port-forward channel: the port, 2 bytes little-endian."""
    return port.to_bytes(2, "little")


def parse_port_prefix(payload: bytes) -> tuple[int, bytes]:
    """(port, rest) of a first port-forward frame; ValueError when under 2 bytes."""
    if len(payload) < 2:
        raise ValueError("port-forward frame shorter than its port prefix")
    return int.from_bytes(payload[:2], "little"), payload[2:]


def port_channels(index: int) -> tuple[int, int]:
    """(data, error) channels of the ``index``-th port of a port-forward request."""
    return 2 * index, 2 * index + 1


def parse_ports(values: list[str]) -> list[int]:
    """The ports of ``port``/``ports`` query values (repeated and/or comma-separated).

    Raises ValueError with the kubelet's words for an empty value, a non-number, or 0.
    """
    ports: list[int] = []
    for value in values:
        if not value:
            raise ValueError('query parameter "port" cannot be empty')
        for part in value.split(","):
            try:
                port = int(part.strip())
                if not 0 <= port < 65536:
                    raise ValueError
            except ValueError:
                raise ValueError(f'unable to parse "{value}" as a port') from None
            if port < 1:
                raise ValueError(f'port "{value}" must be > 0')
            ports.append(port)
    if not ports:
        raise ValueError('query parameter "port" is required')
    return ports


@dataclass(frozen=True)
class Size:
    width: int
    height: int


def parse_resizes(buffer: bytearray) -> list[Size]:
    """Complete JSON size documents (``{"Width":w,"Height":h}``) in ``buffer``, removed from it.

    Documents are newline-separated on SPDY; a WebSocket message holds one whole document,
    which callers pass with a newline appended.
    """
    sizes: list[Size] = []
    while (nl := buffer.find(b"\n")) >= 0:
        line = bytes(buffer[:nl]).strip()
        del buffer[: nl + 1]
        if not line:
            continue
        try:
            doc = orjson.loads(line)
            sizes.append(Size(int(doc.get("Width", 0)), int(doc.get("Height", 0))))
        except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
            continue
    return sizes


def success_status() -> bytes:
    return orjson.dumps({"metadata": {}, "status": "Success"})


def exit_status(code: int, command: tuple[str, ...] | list[str] = ()) -> bytes:
    """The error-stream document for a process exit (Success for 0)."""
    if code == 0:
        return success_status()
    doc: dict[str, Any] = {
        "metadata": {},
        "status": "Failure",
        "message": f"command terminated with non-zero exit code: error executing command "
                   f"[{' '.join(command)}], exit code {code}",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }
    return orjson.dumps(doc)


def failure_status(message: str) -> bytes:
    """The error-stream document for a failure that is not the process's exit code."""
    return orjson.dumps({"metadata": {}, "status": "Failure", "message": message,
                         "reason": "InternalError", "code": 500})
