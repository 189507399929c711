"""Loopback HTTP servers for the demo: one per competitor shop, one for supplier feeds.

Every server is a :class:`repricer.loopback.LoopbackServer` on a free port of 127.0.0.1
rendering from a shared :class:`~repricer.demo.market.Market` with the synthetic pages
and feeds of :mod:`repricer.synthetic`, so price moves show up on the next request.
Shop pages live at ``/p/<sku>``, one markup per shop (:data:`SHOP_MARKUP`); feeds at
``/alpha.yml`` and ``/beta.csv`` with ETags, so an unchanged feed answers 304 to a
conditional GET.
"""

from __future__ import annotations

import hashlib

from repricer.demo._data import SHOPS
from repricer.demo.market import Market
from repricer.loopback import Handler, LoopbackServer, Request, Response
from repricer.synthetic.feeds import CSV_COLUMNS, FeedOffer, csv_feed, yml_feed
from repricer.synthetic.pages import PageProduct, product_page

ROBOTS = "User-agent: *\nAllow: /\n"
HTML = {"Content-Type": "text/html; charset=utf-8"}
# How each demo shop shows its price (see repricer.synthetic.pages).
SHOP_MARKUP = {
    "jsonld-shop": "json-ld",
    "micro-shop": "microdata",
    "plain-shop": "selectors",
    "js-shop": "script",
    "broken-shop": "json-ld",
}
# The beta CSV's columns as the demo config maps them (its name column is not read).
BETA_COLUMNS = {field: CSV_COLUMNS[field] for field in ("sku", "cost", "stock")}


class DemoSites:
    """``with DemoSites(market) as sites: sites.shop_url(shop)``; stops the servers on exit."""

    def __init__(self, market: Market) -> None:
        self.market = market
        self._servers: dict[str, LoopbackServer] = {}

    def __enter__(self) -> DemoSites:
        handlers = {shop: self._shop_handler(shop) for shop in SHOPS}
        for name, handler in {**handlers, "feeds": self._feed}.items():
            server = LoopbackServer()
            server.fallback = handler
            self._servers[name] = server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self._servers.values():
            server.close()
        self._servers.clear()

    def shop_domain(self, shop: str) -> str:
        return self._servers[shop].host

    def page_url(self, shop: str, sku: str) -> str:
        return self._servers[shop].url(f"/p/{sku}")

    def feed_url(self, name: str) -> str:
        return self._servers["feeds"].url(f"/{name}")

    def _shop_handler(self, shop: str) -> Handler:
        products = {p.sku: p for p in self.market.products}

        def handler(request: Request) -> Response:
            if request.path == "/robots.txt":
                return Response(200, ROBOTS, {"Content-Type": "text/plain"})
            sku = request.path.removeprefix("/p/")
            try:
                price = self.market.shop_price(shop, sku)
            except KeyError:
                return Response(404, "<h1>404</h1>", HTML)
            if price is None and sku == "DEMO-001":
                return Response(404, "<h1>Not found</h1>", HTML)  # a removed page
            p = products[sku]
            shown = PageProduct(p.title, price, sku=p.sku, gtin=p.gtin, brand=p.brand)
            return Response(200, product_page(shown, SHOP_MARKUP[shop], site=shop), HTML)

        return handler

    def _feed(self, request: Request) -> Response:
        if request.path == "/alpha.yml":
            body, kind = (
                yml_feed(self._offers("alpha"), shop="Alpha", category="Бытовая техника"),
                "application/xml",
            )
        elif request.path == "/beta.csv":
            body, kind = csv_feed(self._offers("beta")), "text/csv; charset=windows-1251"
        else:
            return Response(404, "not found", {"Content-Type": "text/plain"})
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if request.headers.get("if-none-match") == etag:
            return Response(304, b"", {"Content-Type": kind, "ETag": etag})
        return Response(200, body, {"Content-Type": kind, "ETag": etag})

    def _offers(self, supplier: str) -> list[FeedOffer]:
        """The supplier's offers now, as its feed lists them."""
        products = {p.sku: p for p in self.market.products}
        return [
            FeedOffer(
                sku,
                cost=offer.cost,
                stock=offer.stock,
                name=products[sku].title,
                brand=products[sku].brand,
                vendor_code=sku,
                barcode=products[sku].gtin,
            )
            for sku, offer in self.market.offers(supplier).items()
        ]
