"""A small threaded HTTP server on 127.0.0.1, the one the demo, the tests and the
benchmarks serve their shops, feeds and storefronts from.

Routes map a path to a handler ``(request) -> Response``; a handler may sleep to play a
slow server or count calls to play a flaky one, and ``fallback`` answers paths without a
route of their own. Every request is kept in ``requests``. It listens on a free port of
127.0.0.1 only: nothing here talks to any other host.

    with LoopbackServer() as server:
        server.route("/feed.yml", Response(200, body, {"Content-Type": "application/xml"}))
        fetch(server.url("/feed.yml"))
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import urlsplit

POLL_S = 0.05  # how often the serving thread checks for shutdown: a quick close


@dataclass
class Request:
    """What a handler gets: header names lower-cased, the body read in full."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Response:
    """What a handler answers; ``Content-Length`` is added, other headers are as given.

    A ``stream`` (an iterator of chunks) is sent instead of ``body``, without a length,
    chunk by chunk until it ends or the client goes away, then the connection closes:
    a server that drips or floods."""

    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    stream: Iterator[bytes] | None = None


Handler = Callable[[Request], Response]


class LoopbackServer:
    """``with LoopbackServer() as srv: srv.route("/x", handler); srv.url("/x")``.

    ``backlog`` is the listen queue: raise it for benchmarks that open hundreds of
    connections at once."""

    def __init__(self, *, backlog: int = 64) -> None:
        self.routes: dict[str, Handler] = {}
        self.fallback: Handler | None = None  # serves paths without a route of their own
        self.requests: list[Request] = []
        self._server = ThreadingHTTPServer(
            ("127.0.0.1", 0), _handler_class(self), bind_and_activate=False
        )
        self._server.request_queue_size = backlog
        self._server.daemon_threads = True
        try:
            self._server.server_bind()
            self._server.server_activate()
        except BaseException:
            self._server.server_close()
            raise
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(POLL_S,), daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        """``127.0.0.1:<port>``: the server's domain as competitors are configured."""
        return f"127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}{path}"

    def route(self, path: str, handler: Handler | Response) -> None:
        """Answer ``path`` with ``handler`` (or always the same ``Response``)."""
        if isinstance(handler, Response):
            fixed = handler
            self.routes[path] = lambda _request: fixed
        else:
            self.routes[path] = handler

    def answer(self, request: Request) -> Response:
        """The response to ``request``: its route's, else the fallback's, else 404."""
        self.requests.append(request)
        handler = self.routes.get(request.path) or self.fallback
        return handler(request) if handler else Response(404, b"not found")

    def start(self) -> Self:
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _handler_class(server: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    class LoopbackHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else each keep-alive response waits ~40 ms

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                self.command,
                parts.path,
                parts.query,
                {k.lower(): v for k, v in self.headers.items()},
                self.rfile.read(length) if length else b"",
            )
            response = server.answer(request)
            try:
                self._send(response)
            except OSError:  # the client went away (or gave up on a stream, as it should)
                self.close_connection = True

        def _send(self, response: Response) -> None:
            self.send_response(response.status)
            for key, value in response.headers.items():
                self.send_header(key, value)
            if response.stream is not None:
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                for chunk in response.stream:
                    self.wfile.write(chunk)
                    self.wfile.flush()
                return
            body = response.body.encode() if isinstance(response.body, str) else response.body
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return LoopbackHandler
