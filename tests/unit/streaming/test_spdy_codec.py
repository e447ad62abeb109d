"""SPDY/3.1 frames and header blocks: round trips, chunked parsing, the dictionary."""

from __future__ import annotations

import zlib

import pytest

from kubelite.streaming import spdy


def test_dictionary_is_the_spdy3_one() -> None:
    assert len(spdy.DICTIONARY) == 1423
    assert spdy.DICTIONARY.startswith(b"\x00\x00\x00\x07options")
    block = b"\x00\x00\x00\x01\x00\x00\x00\x0acontent-type\x00\x00\x00\x10text/html; charset=utf-8"
    primed = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY, spdy.DICTIONARY)
    plain = zlib.compressobj(9)
    with_dict = primed.compress(block) + primed.flush(zlib.Z_SYNC_FLUSH)
    without = plain.compress(block) + plain.flush(zlib.Z_SYNC_FLUSH)
    assert len(with_dict) < len(without)


def test_header_blocks_share_one_zlib_stream_per_direction() -> None:
    enc, dec = spdy.HeaderCodec(), spdy.HeaderCodec()
    blocks = [{"streamtype": ["error"]}, {"streamtype": ["data"], "port": ["80"],
                                          "requestid": ["0"]},
              {"x-multi": ["a", "b"]}]
    wire = [enc.encode(b) for b in blocks]
    assert [dec.decode(w) for w in wire] == blocks
    # a fresh decompressor cannot read the second block alone: the stream is shared
    with pytest.raises(spdy.SpdyProtocolError):
        spdy.HeaderCodec().decode(wire[1][1:])


def test_control_frames_round_trip_through_parser_in_small_chunks() -> None:
    enc = spdy.HeaderCodec()
    wire = (
        spdy.encode_syn_stream(enc, 1, {"streamtype": ["stdin"]}, priority=2)
        + spdy.encode_syn_reply(enc, 1, {}, fin=True)
        + spdy.encode_data(1, b"hello", fin=True)
        + spdy.encode_rst_stream(3, spdy.CANCEL)
        + spdy.encode_ping(7)
        + spdy.encode_goaway(5, 0)
        + spdy.encode_window_update(1, 1000)
        + spdy.encode_settings({4: 100})
        + spdy.encode_data(3, b"")
    )
    parser = spdy.FrameParser()
    frames: list[spdy.Frame] = []
    for i in range(0, len(wire), 3):
        frames += parser.feed(wire[i : i + 3])
    assert parser.pending == 0
    syn, reply, data, rst, ping, goaway, wu, settings, empty = frames
    assert isinstance(syn, spdy.ControlFrame) and syn.type == spdy.SYN_STREAM
    assert (syn.stream_id, syn.priority, syn.headers) == (1, 2, {"streamtype": ["stdin"]})
    assert isinstance(reply, spdy.ControlFrame) and reply.type == spdy.SYN_REPLY and reply.fin
    assert data == spdy.DataFrame(1, spdy.FLAG_FIN, b"hello") and data.fin
    assert isinstance(rst, spdy.ControlFrame) and (rst.stream_id, rst.status) == (3, 5)
    assert isinstance(ping, spdy.ControlFrame) and ping.ping_id == 7
    assert isinstance(goaway, spdy.ControlFrame) and goaway.last_stream_id == 5
    assert isinstance(wu, spdy.ControlFrame) and wu.delta == 1000
    assert isinstance(settings, spdy.ControlFrame) and settings.type == spdy.SETTINGS
    assert empty == spdy.DataFrame(3, 0, b"")


def test_wire_layout_of_data_and_ping() -> None:
    assert spdy.encode_data(5, b"ab", fin=True) == b"\x00\x00\x00\x05\x01\x00\x00\x02ab"
    assert spdy.encode_ping(1) == b"\x80\x03\x00\x06\x00\x00\x00\x04\x00\x00\x00\x01"


def test_wrong_version_is_a_protocol_error() -> None:
    with pytest.raises(spdy.SpdyProtocolError):
        spdy.FrameParser().feed(b"\x80\x02\x00\x06\x00\x00\x00\x04\x00\x00\x00\x01")
