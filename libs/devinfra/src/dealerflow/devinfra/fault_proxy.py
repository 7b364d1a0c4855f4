"""A TCP proxy for outage tests: PostgreSQL or Kafka "down" for one client only.

The shared test servers must keep running for everybody else, so a test points its own
pool or bootstrap address at a :class:`FaultProxy` on a free local port and breaks that:

- ``await proxy.open()`` forwards to the target (again);
- ``await proxy.cut()`` refuses new connections and aborts the open ones (both
  directions) until the next ``open()``: a server that is down;
- ``await proxy.blackhole()`` accepts connections but nothing flows either way, on new
  and open connections alike, until the next ``open()``: a server that hangs (a frozen
  process, a dropped link, a full disk). The bytes are held, not dropped: after
  ``open()`` they flow on, so a client that waited still gets its answer;
- ``proxy.latency_s`` delays every chunk forwarded (either direction): a slow link.

:func:`proxied_pool` gives a runtime pool through an open proxy, with short timeouts so a
blackhole turns into errors within a test's patience.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from urllib.parse import urlsplit, urlunsplit

from dealerflow.runtime.db import Pool, create_pool

__all__ = ["FaultProxy", "proxied_pool"]


class FaultProxy:
    """Forwards a free local port to ``target`` (``host:port``) while open."""

    def __init__(self, target: str, *, latency_s: float = 0.0) -> None:
        host, port = target.rsplit(":", 1)
        self.target = (host, int(port))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port: int = s.getsockname()[1]
        self.server: asyncio.Server | None = None
        self.links: set[asyncio.StreamWriter] = set()
        #: Seconds every forwarded chunk waits before it is passed on.
        self.latency_s = latency_s
        self._flowing = asyncio.Event()  # clear while blackholed
        self._flowing.set()

    @classmethod
    def for_dsn(cls, dsn: str, *, latency_s: float = 0.0) -> tuple[FaultProxy, str]:
        """A proxy to the server of a PostgreSQL ``dsn``, and the DSN through it."""
        url = urlsplit(dsn)
        proxy = cls(f"{url.hostname}:{url.port or 5432}", latency_s=latency_s)
        user = url.netloc.rpartition("@")[0]
        address = f"127.0.0.1:{proxy.port}"
        return proxy, urlunsplit(url._replace(netloc=f"{user}@{address}" if user else address))

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def blackholed(self) -> bool:
        """True between :meth:`blackhole` and the next :meth:`open` or :meth:`cut`."""
        return not self._flowing.is_set()

    async def open(self) -> None:
        """Accept and forward connections (again); bytes held by a blackhole flow on."""
        self._flowing.set()
        await self._listen()

    async def close(self) -> None:
        """Refuse new connections; open ones go on."""
        server, self.server = self.server, None
        if server is not None:
            server.close()

    async def cut(self) -> None:
        """An outage: refuse new connections and abort the open ones."""
        await self.close()
        for link in list(self.links):
            link.transport.abort()
        self.links.clear()
        self._flowing.set()  # nothing is left to hold

    async def blackhole(self) -> None:
        """A hung server: connections are accepted, and nothing is answered (nor
        forwarded) on them or on the open ones until :meth:`open`."""
        self._flowing.clear()
        await self._listen()

    async def _listen(self) -> None:
        if self.server is None:
            self.server = await asyncio.start_server(self._pipe, "127.0.0.1", self.port)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # a link still held when the loop shuts down is cancelled: not an error to log
        with contextlib.suppress(asyncio.CancelledError):
            await self._forward(reader, writer)

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.links.add(writer)
        try:
            await self._flowing.wait()  # a blackhole accepts, and does not even connect
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            self.links.discard(writer)
            writer.transport.abort()
            return
        if writer.transport.is_closing():  # cut, or the client gave up, meanwhile
            self.links.discard(writer)
            up_writer.transport.abort()
            return
        self.links.add(up_writer)

        async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    await self._flowing.wait()
                    if self.latency_s > 0:
                        await asyncio.sleep(self.latency_s)
                    dst.write(data)
                    await dst.drain()
                await self._flowing.wait()  # an end of stream is held too
            dst.close()
            self.links.discard(dst)

        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))


async def proxied_pool(
    dsn: str, schema: str, *, min_size: int = 1, max_size: int = 4, timeout_s: float = 2.0
) -> tuple[FaultProxy, Pool]:
    """An open :class:`FaultProxy` to the server of ``dsn`` and a runtime pool on
    ``schema`` through it whose connect, acquire, statement and close timeouts are all
    ``timeout_s``. The caller cuts the proxy and closes the pool."""
    proxy, proxied = FaultProxy.for_dsn(dsn)
    await proxy.open()
    pool = await create_pool(
        proxied,
        schema,
        min_size=min_size,
        max_size=max_size,
        connect_timeout_s=timeout_s,
        acquire_timeout_s=timeout_s,
        command_timeout_s=timeout_s,
    )
    pool.close_timeout_s = timeout_s
    return proxy, pool
