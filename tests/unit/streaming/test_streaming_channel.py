"""Channel messages, resize documents and error-stream Status documents."""

from __future__ import annotations

import orjson

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
