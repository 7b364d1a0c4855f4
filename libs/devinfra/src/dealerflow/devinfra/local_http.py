"""A local HTTP server for tests that play a provider (SMS, WeChat, a webhook receiver).

:func:`serving` runs a ``BaseHTTPRequestHandler`` class on 127.0.0.1 (a free port) in a
thread for a ``with`` block and yields its base URL; :class:`JsonHandler` is a quiet
handler base with :meth:`JsonHandler.reply` for JSON answers. The standard library's
server is enough here (one request at a time per thread, no TLS); it keeps the test
servers free of an extra dependency.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["JsonHandler", "serving"]


class JsonHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing and answers JSON with :meth:`reply`."""

    def body(self) -> bytes:
        """The request body (by its Content-Length)."""
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def lower_headers(self) -> dict[str, str]:
        """The request headers, names in lower case."""
        return {k.lower(): v for k, v in self.headers.items()}

    def reply(
        self,
        status: int,
        answer: Any,
        *,
        content_type: str = "application/json",
        ensure_ascii: bool = True,
    ) -> None:
        """Answer ``status`` with ``answer`` as JSON."""
        data = json.dumps(answer, ensure_ascii=ensure_ascii).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """``handler`` served on 127.0.0.1 at a free port for the block; yields the base URL
    (``http://127.0.0.1:<port>``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
