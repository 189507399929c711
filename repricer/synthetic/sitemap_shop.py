"""A loopback competitor shop with product pages behind nested (gzip) sitemaps.

``serve_shop(server, products)`` routes ``/robots.txt`` (a ``Sitemap:`` line) ->
``/sitemap_index.xml.gz`` (a gzip sitemap index) -> ``/sitemaps/nested.xml.gz`` (a
nested index) -> ``/sitemaps/products-N.xml[.gz]`` (URL sets, every other one gzip) ->
``/p/<id>`` product pages with JSON-LD (name, gtin13, sku, price in RUB). Each request's
arrival time is kept in ``ShopLog.times`` to check the crawl rate.
"""

from __future__ import annotations

import gzip
import threading
import time
from dataclasses import dataclass, field

from repricer.loopback import Handler, LoopbackServer, Request, Response
from repricer.synthetic.pages import PageProduct, product_page

PER_SITEMAP = 1000  # URLs per sitemap file


@dataclass
class ShopProduct:
    """One page: ``gtin`` and ``brand`` may be empty; ``price`` in kopecks. Change an entry to change
    its page (pages are rendered on request)."""

    id: int
    name: str
    gtin: str
    sku: str
    price: int
    brand: str = ""

    def page(self) -> str:
        shown = PageProduct(
            self.name, self.price, sku=self.sku, gtin=self.gtin or None, brand=self.brand or None
        )
        return product_page(shown)


@dataclass
class ShopLog:
    times: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self) -> None:
        with self.lock:
            self.times.append(time.monotonic())


def urlset(urls: list[str]) -> str:
    """A sitemap URL set."""
    items = "".join(f"<url><loc>{u}</loc></url>" for u in urls)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</urlset>'
    )


def sitemap_index(urls: list[str]) -> str:
    """A sitemap index of other sitemaps."""
    items = "".join(f"<sitemap><loc>{u}</loc></sitemap>" for u in urls)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</sitemapindex>'
    )


def _gz(text: str) -> Response:
    return Response(200, gzip.compress(text.encode()), {"Content-Type": "application/x-gzip"})


def _xml(text: str) -> Response:
    return Response(200, text, {"Content-Type": "application/xml"})


def serve_shop(server: LoopbackServer, products: list[ShopProduct]) -> ShopLog:
    """Route the shop on ``server``; returns the log of its requests."""
    log = ShopLog()
    by_path = {f"/p/{p.id}": i for i, p in enumerate(products)}

    def logged(response: Response) -> Handler:
        def handler(_req: Request) -> Response:
            log.record()
            return response

        return handler

    paths = list(by_path)
    chunks = [paths[i : i + PER_SITEMAP] for i in range(0, len(paths), PER_SITEMAP)]
    names = [
        f"/sitemaps/products-{n}.xml" + (".gz" if n % 2 == 0 else "") for n in range(len(chunks))
    ]
    for name, chunk in zip(names, chunks, strict=True):
        body = urlset([server.url(p) for p in chunk])
        server.route(name, logged(_gz(body) if name.endswith(".gz") else _xml(body)))
    nested = sitemap_index([server.url(n) for n in names[1:]])
    server.route("/sitemaps/nested.xml.gz", logged(_gz(nested)))
    top = [server.url(n) for n in names[:1]] + [server.url("/sitemaps/nested.xml.gz")]
    server.route("/sitemap_index.xml.gz", logged(_gz(sitemap_index(top))))
    robots = f"User-agent: *\nDisallow: /private/\nSitemap: {server.url('/sitemap_index.xml.gz')}\n"
    server.route("/robots.txt", logged(Response(200, robots, {"Content-Type": "text/plain"})))

    def page(req: Request) -> Response:
        log.record()
        product = products[by_path[req.path]]
        return Response(200, product.page(), {"Content-Type": "text/html; charset=utf-8"})

    for path in by_path:
        server.route(path, page)
    return log
