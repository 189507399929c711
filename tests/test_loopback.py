"""The loopback server: routes, the fallback, 404, recorded requests, HEAD, and a
streamed reply the client can walk away from."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx

from repricer.loopback import LoopbackServer, Request, Response


def test_routes_fallback_and_unknown_paths() -> None:
    with LoopbackServer() as server:
        server.route("/fixed", Response(201, "made", {"X-Kind": "fixed"}))
        server.route("/echo", lambda r: Response(200, r.body + r.query.encode()))
        assert server.url("/x") == f"http://127.0.0.1:{server.port}/x"
        fixed = httpx.get(server.url("/fixed"))
        assert (fixed.status_code, fixed.text, fixed.headers["x-kind"]) == (201, "made", "fixed")
        assert httpx.post(server.url("/echo?q=1"), content=b"body-").text == "body-q=1"
        assert httpx.get(server.url("/nothing")).status_code == 404
        server.fallback = lambda r: Response(200, f"fallback {r.path}")
        assert httpx.get(server.url("/nothing")).text == "fallback /nothing"
        head = httpx.head(server.url("/fixed"))
        assert head.status_code == 201 and head.content == b""
    seen = [(r.method, r.path) for r in server.requests]
    assert seen[:2] == [("GET", "/fixed"), ("POST", "/echo")]
    assert all(isinstance(r, Request) for r in server.requests)


def test_a_stream_runs_until_the_client_leaves() -> None:
    sent = threading.Event()

    def forever() -> Iterator[bytes]:
        while True:
            yield b"x" * 1024
            sent.set()

    with LoopbackServer() as server:
        server.route("/stream", lambda _r: Response(200, stream=forever()))
        with httpx.stream("GET", server.url("/stream")) as reply:
            assert "content-length" not in reply.headers
            got = 0
            for chunk in reply.iter_bytes():
                got += len(chunk)
                if got > 64 * 1024:
                    break
        assert sent.is_set() and got > 64 * 1024
        assert httpx.get(server.url("/stream-gone")).status_code == 404  # still serving
