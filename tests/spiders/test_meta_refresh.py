"""``HeadMetaRefreshMiddleware``: a meta refresh in the page's head is followed like
Scrapy's middleware follows it, without decoding the page; and in a crawl, through the
egress policy like any redirect."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from scrapy import Request, Spider
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler
from sqlalchemy import Engine, select

from repricer.catalog import sync_competitors
from repricer.config import Settings
from repricer.crawl import run_crawl
from repricer.db.engine import session_scope
from repricer.db.models import Listing, Observation, Product
from repricer.loopback import LoopbackServer
from repricer.loopback import Response as Served
from repricer.synthetic.pages import PageProduct, product_page
from spiders import settings as project_settings
from spiders.decoding import HEAD_BYTES
from spiders.middlewares import HeadMetaRefreshMiddleware

URL = "http://shop.example/p/1"
REFRESH = '<meta http-equiv="refresh" content="0; url={}">'
# Real shop pages put tens of KB of styles and scripts in their head.
BIG_HEAD = "<style>" + ".a{color:red}" * 2000 + "</style>"


def _page(head: str, body: str = "<h1>Чайник</h1>" * 50) -> str:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>"


CASES = [
    ("relative", _page(REFRESH.format("/p/2")), None, "http://shop.example/p/2"),
    ("after a big head", _page(BIG_HEAD + REFRESH.format("/p/2")), None, "http://shop.example/p/2"),
    ("base href", _page('<base href="/new/">' + REFRESH.format("p?id=2")), None,
     "http://shop.example/new/p?id=2"),
    ("cp1251 in the header only", _page("<title>Чайник</title>" + REFRESH.format("/p/2")),
     "windows-1251", "http://shop.example/p/2"),
    ("inside noscript", _page("<noscript>" + REFRESH.format("/p/2") + "</noscript>"), None, None),
    ("too slow", _page('<meta http-equiv="refresh" content="300; url=/p/2">'), None, None),
    ("none", _page("<title>Чайник</title>"), None, None),
    ("past the head bytes", _page("<!--" + "x" * HEAD_BYTES + "-->" + REFRESH.format("/p/2")),
     None, None),
]  # fmt: skip


def _middleware(**settings: object) -> HeadMetaRefreshMiddleware:
    values = {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}
    crawler = get_crawler(Spider, {**values, **settings})
    crawler.spider = crawler._create_spider("test")
    return HeadMetaRefreshMiddleware.from_crawler(crawler)


def _response(html: str, charset: str | None = None) -> HtmlResponse:
    content_type = f"text/html; charset={charset}" if charset else "text/html"
    body = html.encode(charset or "utf-8")
    return HtmlResponse(URL, body=body, headers={"Content-Type": content_type})


@pytest.mark.parametrize(("html", "charset", "expected"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])  # fmt: skip
def test_a_refresh_in_the_head_is_followed(
    html: str, charset: str | None, expected: str | None
) -> None:
    request, response = Request(URL, meta={"target": "kept"}), _response(html, charset)
    outcome = _middleware().process_response(request, response)
    if expected is None:
        assert outcome is response
    else:
        assert isinstance(outcome, Request) and outcome.url == expected
        assert outcome.meta["target"] == "kept"  # the egress policy judges it as the page
        assert outcome.meta["redirect_reasons"] == ["meta refresh"]
    assert response._cached_ubody is None  # the page itself was never decoded


def test_what_scrapy_would_not_follow_is_not_followed() -> None:
    html = _page(REFRESH.format("/p/2"))
    middleware = _middleware()
    for request in (Request(URL, meta={"dont_redirect": True}), Request(URL, method="HEAD")):
        response = _response(html)
        assert middleware.process_response(request, response) is response
    plain = Response(URL, body=html.encode())  # not an HTML response
    assert middleware.process_response(Request(URL), plain) is plain
    to_ftp = _response(_page(REFRESH.format("ftp://shop.example/file")))
    assert middleware.process_response(Request(URL), to_ftp) is to_ftp


def test_scrapys_middleware_is_replaced_in_the_project_settings() -> None:
    middlewares = project_settings.DOWNLOADER_MIDDLEWARES
    assert middlewares["scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware"] is None
    assert middlewares["spiders.middlewares.HeadMetaRefreshMiddleware"] == 580


@pytest.mark.slow
def test_a_crawl_follows_a_refresh_on_the_site_only(
    settings_from: Callable[[str], Settings], engine: Engine, http_server: LoopbackServer
) -> None:
    product = product_page(PageProduct("Чайник", 249000), "json-ld")
    http_server.route("/p/real", Served(200, product, {"Content-Type": "text/html"}))
    http_server.route("/p/moved", Served(200, _page(BIG_HEAD + REFRESH.format("/p/real"))))
    http_server.route("/p/away", Served(200, _page(REFRESH.format("http://elsewhere.example/p"))))
    settings = settings_from(
        f"""
        [crawl]
        timeout = "10s"
        retries = 0
        autothrottle = false

        [[competitors]]
        name = "shop"
        domain = "127.0.0.1:{http_server.port}"
        local = true
        obey_robots = false
        delay = 0
        """
    )
    with session_scope(engine) as session:
        [shop_id] = sync_competitors(settings, session).values()
        for path in ("/p/moved", "/p/away"):
            item = Product(sku=path)
            session.add(item)
            session.flush()
            session.add(
                Listing(product_id=item.id, competitor_id=shop_id, url=http_server.url(path))
            )
    result = run_crawl(settings, timeout=120)
    assert result.status == "ok", result.error
    with session_scope(engine) as session:
        rows = session.execute(
            select(Listing.url, Observation.status, Observation.reason)
            .join(Listing, Listing.id == Observation.listing_id)
        ).all()  # fmt: skip
    outcome = {url.rsplit("/", 1)[-1]: (status, reason) for url, status, reason in rows}
    assert outcome["moved"][0] == "redirect"  # followed, to another product address
    assert "/p/real" in outcome["moved"][1]
    assert outcome["away"][0] == "blocked"
    assert "egress refused" in outcome["away"][1] and "elsewhere.example" in outcome["away"][1]
    assert [r.path for r in http_server.requests].count("/p/real") == 1
