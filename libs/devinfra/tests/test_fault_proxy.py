"""FaultProxy against a local echo server: forward, cut, blackhole (hold, then flow on)
and latency."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from dealerflow.devinfra.fault_proxy import FaultProxy


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(1024):
        writer.write(data)
        await writer.drain()
    writer.close()


@pytest.fixture
async def proxy() -> AsyncIterator[FaultProxy]:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    proxy = FaultProxy(f"127.0.0.1:{port}")
    await proxy.open()
    yield proxy
    await proxy.cut()
    server.close()


async def _connect(proxy: FaultProxy) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", proxy.port)


async def _ask(
    link: tuple[asyncio.StreamReader, asyncio.StreamWriter], data: bytes, timeout_s: float = 2
) -> bytes:
    reader, writer = link
    writer.write(data)
    await writer.drain()
    return await asyncio.wait_for(reader.readexactly(len(data)), timeout_s)


async def test_open_forwards_and_cut_refuses(proxy: FaultProxy) -> None:
    link = await _connect(proxy)
    assert await _ask(link, b"ping") == b"ping"
    await proxy.cut()
    assert await link[0].read(10) == b""  # the open connection is aborted
    with pytest.raises(ConnectionRefusedError):
        await _connect(proxy)
    await proxy.open()
    assert await _ask(await _connect(proxy), b"again") == b"again"


async def test_a_blackhole_accepts_answers_nothing_and_flows_on_after_open(
    proxy: FaultProxy,
) -> None:
    old = await _connect(proxy)
    assert await _ask(old, b"1") == b"1"
    await proxy.blackhole()
    assert proxy.blackholed
    new = await _connect(proxy)  # accepted: not refused
    with pytest.raises(TimeoutError):
        await _ask(old, b"held", timeout_s=0.5)
    with pytest.raises(TimeoutError):
        await _ask(new, b"new", timeout_s=0.5)
    await proxy.open()
    assert not proxy.blackholed
    # what was sent meanwhile was held, not dropped
    assert await asyncio.wait_for(old[0].readexactly(4), 2) == b"held"
    assert await asyncio.wait_for(new[0].readexactly(3), 2) == b"new"


async def test_cut_during_a_blackhole_aborts_the_held_connections(proxy: FaultProxy) -> None:
    link = await _connect(proxy)
    await proxy.blackhole()
    held = await _connect(proxy)
    await proxy.cut()
    assert await asyncio.wait_for(link[0].read(10), 2) == b""
    assert await asyncio.wait_for(held[0].read(10), 2) == b""


async def test_latency_delays_every_chunk(proxy: FaultProxy) -> None:
    link = await _connect(proxy)
    proxy.latency_s = 0.2
    started = time.monotonic()
    assert await _ask(link, b"slow") == b"slow"
    assert time.monotonic() - started >= 0.4  # there and back
