"""A loopback HTTP server for tests: scripted responses, every request recorded. Never the internet."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Seen:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    at: float


@dataclass
class Loopback:
    url: str
    seen: list[Seen] = field(default_factory=list)


Responder = Callable[[str, dict[str, list[str]], int], tuple[int, str]]


@contextmanager
def serve(respond: Responder) -> Iterator[Loopback]:
    """``respond(path, query, n)`` returns (status, JSON body) for the n-th request (0-based)."""
    state = Loopback(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            path = unquote(parts.path)
            query = parse_qs(parts.query)
            n = len(state.seen)
            state.seen.append(Seen(path, query, dict(self.headers.items()), time.monotonic()))
            status, body = respond(path, query, n)
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # noqa: ARG002 - stdlib signature
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
