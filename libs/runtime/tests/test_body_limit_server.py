"""A 100 MB request body against a real uvicorn server: 413 after at most the limit.

The app runs under uvicorn on a loopback port (as ``dealerflow-<svc> serve`` runs it) and
a raw socket client pushes 100 MB, declared or chunked, while reading the answer. The
server answers 413 (or whatever the endpoint answers) with ``Connection: close`` and
stops reading: the client gets to send only the limit plus what the socket buffers of
both ends hold (a few MB), not the 100 MB a kept-alive connection would drain, and the
process's memory never grows by the body.
"""

from __future__ import annotations

import asyncio
import socket
import tracemalloc
from collections.abc import AsyncIterator

import pytest
import uvicorn
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from dealerflow.devinfra.tokens import auth_header, tokens_auth_settings
from dealerflow.runtime.http import create_http_app
from dealerflow.runtime.settings import ServiceSettings

BODY = 100 * 1024 * 1024
LIMIT = 1_048_576
#: the limit plus the loopback socket buffers of both ends (autotuned, a few MB)
AT_MOST_SENT = 16 * 1024 * 1024
CHUNK = b"x" * 65536


class Note(BaseModel):
    text: str


def _app() -> FastAPI:
    router = APIRouter(prefix="/v1")

    @router.post("/notes")
    async def add_note(note: Note) -> dict[str, int]:
        return {"length": len(note.text)}

    @router.post("/ping")
    async def ping() -> dict[str, str]:  # ignores whatever body comes with it
        return {"status": "ok"}

    settings = ServiceSettings(
        service_name="bodytest", http_max_body_bytes=LIMIT, **tokens_auth_settings()
    )
    return create_http_app(title="body", version="1", settings=settings, routers=[router])


@pytest.fixture
async def server_port() -> AsyncIterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    config = uvicorn.Config(_app(), log_config=None, access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        assert not task.done(), "uvicorn did not start"
        await asyncio.sleep(0.01)
    yield port
    server.should_exit = True
    await task


async def _push(port: int, path: str, *, chunked: bool, content_type: str) -> tuple[int, bytes]:
    """Send a 100 MB body while reading the answer; (bytes sent, the answer's head)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {BODY}"
    token = "".join(f"{k}: {v}\r\n" for k, v in auth_header().items())
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: {content_type}\r\n"
        f"{framing}\r\n{token}\r\n".encode()
    )
    answer = asyncio.create_task(reader.read(4096))
    sent = 0
    try:
        while sent < BODY:
            writer.write(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK) if chunked else CHUNK)
            await writer.drain()
            sent += len(CHUNK)
    except ConnectionError:
        pass  # the server closed the connection: what we want
    head = await asyncio.wait_for(answer, 10)
    writer.close()
    return sent, head


@pytest.mark.parametrize(
    ("path", "chunked", "content_type", "status"),
    [
        ("/v1/notes", False, "application/json", b"413"),  # declared: refused unread
        ("/v1/notes", True, "application/json", b"413"),  # streamed into the parser
        ("/v1/ping", True, "application/octet-stream", b"200"),  # body never read
    ],
)
async def test_a_100_mb_body_is_refused_after_at_most_the_limit(
    server_port: int, path: str, chunked: bool, content_type: str, status: bytes
) -> None:
    tracemalloc.start()
    try:
        sent, head = await _push(server_port, path, chunked=chunked, content_type=content_type)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sent < AT_MOST_SENT, f"the server read {sent} bytes of a {BODY}-byte body"
    assert head.startswith(b"HTTP/1.1 " + status), head[:200]
    assert b"connection: close" in head.lower()
    assert peak < 16 * 1024 * 1024, f"{peak} bytes of memory for the request"


async def test_a_body_within_the_limit_keeps_the_connection(server_port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server_port)
    token = "".join(f"{k}: {v}\r\n" for k, v in auth_header().items())
    body = b'{"text": "hello"}'
    request = (
        f"POST /v1/notes HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        f"Transfer-Encoding: chunked\r\n{token}\r\n".encode()
        + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    )
    for _ in range(2):  # the same connection serves the next request
        writer.write(request)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 200"), head
        assert b"connection: close" not in head.lower()
        length = next(
            int(line.split(b":")[1])
            for line in head.lower().split(b"\r\n")
            if line.startswith(b"content-length:")
        )
        await reader.readexactly(length)
    writer.close()
