"""Loopback HTTP servers for the demo: one per competitor shop, one for supplier feeds.

Every server listens on 127.0.0.1 on a free port and renders from a shared
:class:`~repricer.demo.market.Market`, so price moves show up on the next request.
Shop pages live at ``/p/<sku>``; feeds at ``/alpha.yml`` and ``/beta.csv`` with ETags,
so an unchanged feed answers 304 to a conditional GET.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from repricer.demo._data import SHOPS
from repricer.demo.market import Market
from repricer.demo.shop_pages import render_page
from repricer.demo.supplier_feeds import render_csv, render_yml

ROBOTS = b"User-agent: *\nAllow: /\n"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


Route = Callable[[str, dict[str, str]], Reply]


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 (free port) answering GETs through ``route``."""

    def __init__(self, route: Route) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                reply = route(
                    self.path.split("?")[0], {k.lower(): v for k, v in self.headers.items()}
                )
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DemoSites:
    """``with DemoSites(market) as sites: sites.shop_url(shop)``; stops the servers on exit."""

    def __init__(self, market: Market) -> None:
        self.market = market
        self._servers: dict[str, LoopbackServer] = {}

    def __enter__(self) -> DemoSites:
        for shop in SHOPS:
            self._servers[shop] = LoopbackServer(self._shop_route(shop))
        self._servers["feeds"] = LoopbackServer(self._feed_route)
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self._servers.values():
            server.close()
        self._servers.clear()

    def shop_domain(self, shop: str) -> str:
        return f"127.0.0.1:{self._servers[shop].port}"

    def page_url(self, shop: str, sku: str) -> str:
        return f"http://{self.shop_domain(shop)}/p/{sku}"

    def feed_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self._servers['feeds'].port}/{name}"

    def _shop_route(self, shop: str) -> Route:
        products = {p.sku: p for p in self.market.products}

        def route(path: str, _headers: dict[str, str]) -> Reply:
            if path == "/robots.txt":
                return Reply(body=ROBOTS, content_type="text/plain")
            sku = path.removeprefix("/p/")
            try:
                price = self.market.shop_price(shop, sku)
            except KeyError:
                return Reply(404, b"<h1>404</h1>")
            if price is None and sku == "DEMO-001":
                return Reply(404, b"<h1>Not found</h1>")  # a removed page
            return Reply(body=render_page(shop, products[sku], price).encode("utf-8"))

        return route

    def _feed_route(self, path: str, headers: dict[str, str]) -> Reply:
        if path == "/alpha.yml":
            body, kind = (
                render_yml(self.market.offers("alpha"), self.market.products),
                "application/xml",
            )
        elif path == "/beta.csv":
            body, kind = (
                render_csv(self.market.offers("beta"), self.market.products),
                "text/csv; charset=windows-1251",
            )
        else:
            return Reply(404, b"not found", "text/plain")
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if headers.get("if-none-match") == etag:
            return Reply(304, b"", kind, {"ETag": etag})
        return Reply(200, body, kind, {"ETag": etag})
