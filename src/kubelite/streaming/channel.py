"""The remotecommand protocol names, channels and the error-stream Status documents.

WebSocket (``v4``/``v5.channel.k8s.io``): every binary message's first byte is the channel,
the rest its payload. ``v5`` adds channel 255 ("close"): ``[255, channel]`` half-closes that
channel (the client's stdin EOF). SPDY carries the same streams as separate SPDY streams,
named by their ``streamtype`` header.
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
