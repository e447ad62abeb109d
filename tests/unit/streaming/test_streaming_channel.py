"""Channel messages, resize documents and error-stream Status documents."""

from __future__ import annotations

import orjson
import pytest

from kubelite.streaming import channel


def test_frame_and_split() -> None:
    assert channel.frame(channel.STDOUT, b"hi") == b"\x01hi"
    assert channel.split(b"\x00abc") == (channel.STDIN, b"abc")


def test_resizes_are_cut_at_newlines_and_bad_ones_skipped() -> None:
    buf = bytearray(b'{"Width":80,"Height":24}\nnot json\n{"Width":100,"He')
    assert channel.parse_resizes(buf) == [channel.Size(80, 24)]
    buf += b'ight":30}\n'
    assert channel.parse_resizes(buf) == [channel.Size(100, 30)]
    assert buf == bytearray()


def test_exit_status_documents() -> None:
    assert orjson.loads(channel.exit_status(0)) == {"metadata": {}, "status": "Success"}
    doc = orjson.loads(channel.exit_status(3))
    assert doc["status"] == "Failure" and doc["reason"] == "NonZeroExitCode"
    assert doc["details"]["causes"] == [{"reason": "ExitCode", "message": "3"}]
    assert orjson.loads(channel.failure_status("boom"))["message"] == "boom"


@pytest.mark.parametrize(("text", "data", "expected"), [
    (False, b"\x00ls\n", (channel.STDIN, b"ls\n")),
    (False, b"\x04{\"Width\":80}", (channel.RESIZE, b'{"Width":80}')),
    (False, b"\xff\x00", (channel.CLOSE, b"\x00")),
    (False, b"\x01", (channel.STDOUT, b"")),
    (False, b"", None),
    (True, "\x00echo test string 1\n", (channel.STDIN, b"echo test string 1\n")),
    (True, "\x00h\u00e9", (channel.STDIN, "h\u00e9".encode())),
    (True, "\x04{\"Height\":24}", (channel.RESIZE, b'{"Height":24}')),
    (True, "", None),
    (True, "\u0100x", None),  # channel numbers stop at 255
    (True, b"\x00bytes in a text frame", (channel.STDIN, b"bytes in a text frame")),
])
def test_decode_message_text_and_binary(text: bool, data: str | bytes,
                                        expected: tuple[int, bytes] | None) -> None:
    assert channel.decode_message(text, data) == expected


@pytest.mark.parametrize(("port", "prefix"), [
    (80, b"\x50\x00"), (8080, b"\x90\x1f"), (1, b"\x01\x00"), (65535, b"\xff\xff"),
])
def test_port_prefix_is_two_bytes_little_endian(port: int, prefix: bytes) -> None:
    assert channel.port_prefix(port) == prefix
    assert channel.parse_port_prefix(prefix + b"rest") == (port, b"rest")


def test_short_port_prefix_is_refused() -> None:
    with pytest.raises(ValueError):
        channel.parse_port_prefix(b"\x50")


@pytest.mark.parametrize(("index", "channels"), [(0, (0, 1)), (1, (2, 3)), (5, (10, 11))])
def test_port_channels(index: int, channels: tuple[int, int]) -> None:
    assert channel.port_channels(index) == channels


@pytest.mark.parametrize(("values", "ports"), [
    (["80"], [80]),
    (["80,8080"], [80, 8080]),
    (["80", "8080,9090"], [80, 8080, 9090]),
    (["65535"], [65535]),
])
def test_parse_ports(values: list[str], ports: list[int]) -> None:
    assert channel.parse_ports(values) == ports


@pytest.mark.parametrize(("values", "message"), [
    ([], 'query parameter "port" is required'),
    ([""], 'query parameter "port" cannot be empty'),
    (["http"], 'unable to parse "http" as a port'),
    (["80,x"], 'unable to parse "80,x" as a port'),
    (["70000"], 'unable to parse "70000" as a port'),
    (["0"], 'port "0" must be > 0'),
])
def test_parse_ports_errors(values: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        channel.parse_ports(values)
