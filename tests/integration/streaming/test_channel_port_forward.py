"""port-forward over WebSocket channels, frame by frame, through the API server.

Over the fake runtime (see streaming_cluster): port 80 reaches a TCP echo server, every
other port is refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from streaming_cluster import NS, StreamingCluster

from kubelite.testing.server_process import client_ssl_context


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamingCluster]:
    c = StreamingCluster(Path(tmp_path_factory.mktemp("pfchannels"))).start()
    yield c
    c.stop()


async def _session(cluster: StreamingCluster, query: str) -> tuple[aiohttp.ClientSession, str]:
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(
        ssl=client_ssl_context(cluster.kubeconfig)))
    return session, f"{cluster.api.url()}/api/v1/namespaces/{NS}/pods/web/portforward?{query}"


async def _frame(ws: aiohttp.ClientWebSocketResponse) -> bytes:
    msg = await asyncio.wait_for(ws.receive(), 5)
    assert msg.type == aiohttp.WSMsgType.BINARY, msg
    return bytes(msg.data)


@pytest.mark.parametrize("protocol", ["v4.channel.k8s.io", "portforward.k8s.io"])
def test_two_ports_announced_then_data_and_errors(cluster: StreamingCluster,
                                                  protocol: str) -> None:
    async def go() -> list[bytes]:
        session, url = await _session(cluster, "ports=80,81")
        async with session, session.ws_connect(url, protocols=(protocol,)) as ws:
            assert ws.protocol == protocol
            # channels 0..3 announced in order, each with its port (2 bytes little-endian)
            frames = [await _frame(ws) for _ in range(4)]
            error = await _frame(ws)
            await ws.send_bytes(b"\x00binary\n")
            echoed = [await _frame(ws)]
            await ws.send_str("\x00text\n")  # a text frame: first character is the channel
            echoed.append(await _frame(ws))
            return [*frames, error, *echoed]

    frames = cluster.run(go())
    assert frames[:4] == [b"\x00\x50\x00", b"\x01\x50\x00", b"\x02\x51\x00", b"\x03\x51\x00"]
    assert frames[4].startswith(b"\x03error forwarding port 81 to pod web, uid ")
    assert frames[4].endswith(b"connection refused")
    assert frames[5:] == [b"\x00binary\n", b"\x00text\n"]


@pytest.mark.parametrize(("query", "message"), [
    ("ports=http", 'unable to parse \\"http\\" as a port'),
    ("ports=0", 'port \\"0\\" must be > 0'),
    ("", 'query parameter \\"port\\" is required'),
])
def test_bad_ports_are_refused_before_the_upgrade(cluster: StreamingCluster, query: str,
                                                  message: str) -> None:
    async def body() -> bytes:
        session, url = await _session(cluster, query)
        async with session, session.get(url, headers={
                "Connection": "Upgrade", "Upgrade": "websocket",
                "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                "Sec-WebSocket-Protocol": "v4.channel.k8s.io"}) as r:
            assert r.status == 400
            return await r.read()

    assert message.encode() in cluster.run(body())
