"""A loopback competitor shop with product pages behind nested (gzip) sitemaps.

``serve_shop(server, products)`` routes ``/robots.txt`` (a ``Sitemap:`` line) ->
``/sitemap_index.xml.gz`` (a gzip sitemap index) -> ``/sitemaps/nested.xml.gz`` (a
nested index) -> ``/sitemaps/products-N.xml[.gz]`` (URL sets, every other one gzip) ->
``/p/<id>`` product pages with JSON-LD (name, gtin13, sku, price in RUB). Each request's
arrival time is kept in ``ShopLog.times`` to check the crawl rate. Used by the discovery
tests and ``bench/discovery.py``.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from dataclasses import dataclass, field

from tests.support.httpserver import Handler, LocalServer, Request, Response

PAGE = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>{name}</title>"
    '<script type="application/ld+json">{data}</script></head>'
    "<body><h1>{name}</h1></body></html>"
)
PER_SITEMAP = 1000


@dataclass
class ShopProduct:
    """One page: ``gtin`` may be empty; ``price`` in roubles."""

    id: int
    name: str
    gtin: str
    sku: str
    price: int


@dataclass
class ShopLog:
    times: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self) -> None:
        with self.lock:
            self.times.append(time.monotonic())


def product_page(product: ShopProduct) -> str:
    data = {"@context": "https://schema.org", "@type": "Product", "name": product.name,
            "sku": product.sku, "offers": {"@type": "Offer", "price": str(product.price),
                                           "priceCurrency": "RUB"}}  # fmt: skip
    if product.gtin:
        data["gtin13"] = product.gtin
    return PAGE.format(name=product.name, data=json.dumps(data, ensure_ascii=False))


def _urlset(urls: list[str]) -> str:
    items = "".join(f"<url><loc>{u}</loc></url>" for u in urls)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</urlset>'


def _index(urls: list[str]) -> str:
    items = "".join(f"<sitemap><loc>{u}</loc></sitemap>" for u in urls)
    return f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</sitemapindex>'


def _gz(text: str) -> Response:
    return Response(200, gzip.compress(text.encode()), {"Content-Type": "application/x-gzip"})


def _xml(text: str) -> Response:
    return Response(200, text, {"Content-Type": "application/xml"})


def serve_shop(server: LocalServer, products: list[ShopProduct]) -> ShopLog:
    """Route the shop on ``server``; pages are rendered on request from ``products``
    (change an entry to change the page)."""
    log = ShopLog()
    by_path = {f"/p/{p.id}": i for i, p in enumerate(products)}

    def logged(response: Response) -> Handler:
        def handler(_req: Request) -> Response:
            log.record()
            return response

        return handler

    chunks = [list(by_path)[i : i + PER_SITEMAP] for i in range(0, len(by_path), PER_SITEMAP)]
    names = [
        f"/sitemaps/products-{n}.xml" + (".gz" if n % 2 == 0 else "") for n in range(len(chunks))
    ]
    for name, paths in zip(names, chunks, strict=True):
        body = _urlset([server.url(p) for p in paths])
        server.route(name, logged(_gz(body) if name.endswith(".gz") else _xml(body)))
    server.route("/sitemaps/nested.xml.gz", logged(_gz(_index([server.url(n) for n in names[1:]]))))
    top = [server.url(n) for n in names[:1]] + [server.url("/sitemaps/nested.xml.gz")]
    server.route("/sitemap_index.xml.gz", logged(_gz(_index(top))))
    robots = f"User-agent: *\nDisallow: /private/\nSitemap: {server.url('/sitemap_index.xml.gz')}\n"
    server.route("/robots.txt", logged(Response(200, robots, {"Content-Type": "text/plain"})))

    def page(req: Request) -> Response:
        log.record()
        product = products[by_path[req.path]]
        return Response(200, product_page(product), {"Content-Type": "text/html; charset=utf-8"})

    for path in by_path:
        server.route(path, page)
    return log
