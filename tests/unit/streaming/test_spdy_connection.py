"""SPDY connections over a local socket: replies, data, FIN, RST, PING, GOAWAY."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from kubelite.streaming import spdy
from kubelite.streaming.bytestream import SocketStream
from kubelite.streaming.spdy_session import SpdyConnection


@pytest.fixture
async def pair() -> AsyncIterator[tuple[SpdyConnection, SpdyConnection]]:
    accepted: asyncio.Queue[SocketStream] = asyncio.Queue()

    async def on_conn(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await accepted.put(SocketStream(r, w))

    server = await asyncio.start_server(on_conn, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = SpdyConnection(SocketStream(*await asyncio.open_connection("127.0.0.1", port)),
                            server=False)
    srv = SpdyConnection(await accepted.get(), server=True)
    tasks = [asyncio.create_task(client.serve()), asyncio.create_task(srv.serve())]
    yield client, srv
    await client.close()
    await srv.close()
    for t in tasks:
        t.cancel()
    server.close()


async def test_streams_data_fin_and_headers(pair: tuple[SpdyConnection, SpdyConnection]) -> None:
    client, server = pair
    st = await client.open_stream({"streamtype": "stdin"})
    assert st.id == 1
    peer = await server.accept()
    assert peer is not None and peer.header("streamtype") == "stdin"
    await st.write(b"x" * 100_000)
    await st.close()
    assert await peer.read_all() == b"x" * 100_000
    await peer.write(b"reply")
    await peer.close()
    assert await st.read_all() == b"reply"
    second = await client.open_stream({"streamtype": "stdout"})
    assert second.id == 3


async def test_reset_ends_reads_and_refuses_writes(
    pair: tuple[SpdyConnection, SpdyConnection],
) -> None:
    client, server = pair
    st = await client.open_stream({"streamtype": "data"})
    peer = await server.accept()
    assert peer is not None
    await st.reset()
    assert await asyncio.wait_for(peer.read(), 5) == b""
    assert peer.was_reset
    with pytest.raises(ConnectionResetError):
        await peer.write(b"late")


async def test_ping_is_echoed_and_goaway_ends_accept(
    pair: tuple[SpdyConnection, SpdyConnection],
) -> None:
    client, server = pair
    await asyncio.wait_for(client.ping(), 5)
    await asyncio.wait_for(server.ping(), 5)
    await client.goaway()
    assert await asyncio.wait_for(server.accept(), 5) is None


async def test_connection_end_ends_every_stream(
    pair: tuple[SpdyConnection, SpdyConnection],
) -> None:
    client, server = pair
    await client.open_stream({"streamtype": "error"})
    peer = await server.accept()
    assert peer is not None
    await client.close()
    assert await asyncio.wait_for(peer.read(), 5) == b""
    await asyncio.wait_for(server.done.wait(), 5)


def test_syn_reply_is_what_the_server_sends() -> None:
    # the server's answer to SYN_STREAM is an empty SYN_REPLY for the same id
    enc = spdy.HeaderCodec()
    frame = spdy.FrameParser().feed(spdy.encode_syn_reply(enc, 9, {}))[0]
    assert isinstance(frame, spdy.ControlFrame)
    assert (frame.type, frame.stream_id, frame.headers) == (spdy.SYN_REPLY, 9, {})
