"""A TCP proxy for outage tests: PostgreSQL or Kafka "down" for one client only.

The shared test servers must keep running for everybody else, so a test points its own
pool or bootstrap address at a :class:`FaultProxy` on a free local port and cuts that:
``await proxy.open()`` forwards to the target, ``await proxy.cut()`` refuses new
connections and aborts the open ones (both directions) until the next ``open()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from urllib.parse import urlsplit, urlunsplit

__all__ = ["FaultProxy"]


class FaultProxy:
    """Forwards a free local port to ``target`` (``host:port``) while open."""

    def __init__(self, target: str) -> None:
        host, port = target.rsplit(":", 1)
        self.target = (host, int(port))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port: int = s.getsockname()[1]
        self.server: asyncio.Server | None = None
        self.links: set[asyncio.StreamWriter] = set()

    @classmethod
    def for_dsn(cls, dsn: str) -> tuple[FaultProxy, str]:
        """A proxy to the server of a PostgreSQL ``dsn``, and the DSN through it."""
        url = urlsplit(dsn)
        proxy = cls(f"{url.hostname}:{url.port or 5432}")
        user = url.netloc.rpartition("@")[0]
        address = f"127.0.0.1:{proxy.port}"
        return proxy, urlunsplit(url._replace(netloc=f"{user}@{address}" if user else address))

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def open(self) -> None:
        """Accept and forward connections (again)."""
        if self.server is None:
            self.server = await asyncio.start_server(self._pipe, "127.0.0.1", self.port)

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

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.links |= {writer, up_writer}

        async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()
            self.links.discard(dst)

        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))
