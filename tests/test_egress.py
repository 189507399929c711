"""The crawl egress policy and the one loopback test (repricer.egress), unit and end to end:
a real crawl (Scrapy child process) against two servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from sqlalchemy import Engine, select

from repricer import egress
from repricer.catalog import sync_competitors
from repricer.config import Settings
from repricer.crawl import run_crawl
from repricer.db.engine import session_scope
from repricer.db.models import Listing, Observation, Product
from repricer.egress import (
    crawl_refusal,
    is_loopback_host,
    on_site,
    refused_address,
    untargeted_refusal,
)
from repricer.exceptions import StorefrontError
from repricer.loopback import LoopbackServer, Response
from repricer.storefront.base import require_url
from spiders.middlewares import EgressPolicyMiddleware


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.0.30", True), ("127.255.0.9", True), ("::1", True),
     ("[::1]", True), ("localhost", True), ("::ffff:127.0.0.2", True), ("10.0.0.1", False),
     ("128.0.0.1", False), ("shop.example", False), ("localhost.evil.example", False)],
)  # fmt: skip
def test_is_loopback_host(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


@pytest.mark.parametrize(
    "url", ["http://127.0.0.30:8080/api", "http://[::1]:8080/api", "http://localhost/api"]
)
def test_plain_http_storefront_on_any_loopback_address(url: str) -> None:
    assert require_url(url, "http.url") == url.rstrip("/")


def test_plain_http_storefront_elsewhere_is_refused() -> None:
    with pytest.raises(StorefrontError, match="https"):
        require_url("http://10.0.0.5/api", "http.url")


@pytest.mark.parametrize(
    ("url", "allowed"),
    [("https://shop.example/p/1", True), ("https://www.shop.example/p/1", True),
     ("https://m.shop.example/p/1", True), ("https://cdn-shop.example/p/1", True),
     ("https://shop.example.evil.example/p", False), ("https://evilshop.example/p", False),
     ("http://169.254.169.254/latest/meta-data", False), ("ftp://shop.example/p", False)],
)  # fmt: skip
def test_on_site_domain_subdomains_and_aliases(url: str, allowed: bool) -> None:
    assert on_site(url, "www.shop.example", ["cdn-shop.example"]) is allowed


def test_on_site_honours_a_port_in_the_domain() -> None:
    assert on_site("http://127.0.0.1:8001/p", "127.0.0.1:8001")
    assert not on_site("http://127.0.0.1:8002/p", "127.0.0.1:8001")
    assert on_site("http://127.0.0.1:8002/p", "127.0.0.1")


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "10.1.2.3", "192.168.0.1", "172.16.5.5", "169.254.169.254", "::1",
             "fe80::1", "fc00::1", "0.0.0.0", "240.0.0.1", "224.0.0.1", "localhost"],
)  # fmt: skip
def test_non_public_addresses_are_refused(host: str) -> None:
    assert refused_address(host) is not None
    assert crawl_refusal(f"http://{host}/p", host, local=False) is not None


def test_public_address_and_local_competitor_are_allowed() -> None:
    assert refused_address("8.8.8.8") is None
    assert crawl_refusal("http://127.0.0.1:9/p", "127.0.0.1", local=True) is None


def _jsonld_page(price: int) -> Response:
    body = (
        '<html><head><script type="application/ld+json">{"@context": "https://schema.org", '
        '"@type": "Product", "name": "Kettle", "offers": {"@type": "Offer", '
        f'"price": "{price}", "priceCurrency": "RUB"}}}}</script></head><body>Kettle</body></html>'
    )
    return Response(200, body, {"Content-Type": "text/html; charset=utf-8"})


@pytest.mark.slow
def test_redirects_off_site_and_private_addresses_are_refused_and_nothing_stored(
    settings_from: Callable[[str], Settings], engine: Engine, http_server: LoopbackServer
) -> None:
    with LoopbackServer() as other:
        other.route("/p", _jsonld_page(777))
        a = http_server
        a.route("/p/ok", _jsonld_page(1000))
        a.route("/r/port", Response(302, b"", {"Location": other.url("/p")}))
        a.route("/r/localhost", Response(302, b"", {"Location": f"http://localhost:{a.port}/p/ok"}))
        a.route("/r/metadata", Response(302, b"", {"Location": "http://169.254.169.254/latest"}))
        hop = f"<html><body><script>location.href = '{other.url('/p')}';</script></body></html>"
        a.route("/js/hop", Response(200, hop, {"Content-Type": "text/html; charset=utf-8"}))
        settings = settings_from(
            f"""
            [crawl]
            timeout = "5s"
            retries = 0
            autothrottle = false

            [[competitors]]
            name = "shop"
            domain = "127.0.0.1:{a.port}"
            local = true
            obey_robots = false
            delay = 0

            [[competitors]]
            name = "js"
            domain = "127.0.0.1:{a.port}"
            local = true
            render = "browser"
            obey_robots = false
            delay = 0

            [[competitors]]
            name = "remote"
            domain = "127.0.0.1"
            obey_robots = false
            delay = 0
            """
        )
        paths = {
            "shop": ["/p/ok", "/r/port", "/r/localhost", "/r/metadata"],
            "js": ["/js/hop"],
            "remote": ["/p/ok"],
        }
        ids = _listings(settings, engine, a, paths)
        result = run_crawl(settings, timeout=120)
        assert result.status == "ok", result.error
        assert other.requests == []  # never fetched
    with session_scope(engine) as session:
        rows = session.execute(select(Observation)).scalars().all()
        got = {o.listing_id: (o.status, o.price, o.reason or "") for o in rows}
    assert got[ids[("shop", "/p/ok")]][:2] == ("ok", 100000)
    for key in [("shop", "/r/port"), ("shop", "/r/localhost"), ("shop", "/r/metadata")]:
        status, price, reason = got[ids[key]]
        assert (status, price) == ("blocked", None), (key, got[ids[key]])
        assert "egress refused" in reason and "not on the competitor's domain" in reason
    status, price, reason = got[ids[("js", "/js/hop")]]
    assert price is None and status != "ok", got[ids[("js", "/js/hop")]]  # the hop was aborted
    status, price, reason = got[ids[("remote", "/p/ok")]]
    assert (status, price) == ("blocked", None) and "non-public address" in reason
    fetched = [r.path for r in a.requests]
    assert fetched.count("/p/ok") == 1  # the local competitor's page; the remote one refused


def _listings(
    settings: Settings, engine: Engine, server: LoopbackServer, paths: dict[str, list[str]]
) -> dict[tuple[str, str], int]:
    ids = {}
    with session_scope(engine) as session:
        competitor_ids = sync_competitors(settings, session)
        for name, wanted in paths.items():
            for path in wanted:
                product = Product(sku=f"{name}{path}", title=path)
                session.add(product)
                session.flush()
                listing = Listing(
                    product_id=product.id, competitor_id=competitor_ids[name], url=server.url(path)
                )
                session.add(listing)
                session.flush()
                ids[(name, path)] = listing.id
    return ids


def _site(domain: str, *, local: bool) -> SimpleNamespace:
    return SimpleNamespace(domain=domain, aliases=[], local=local)


def test_requests_for_no_listing_are_held_to_a_competitor_of_the_crawl() -> None:
    shop, remote = _site("127.0.0.1:8080", local=True), _site("shop.example", local=False)
    assert untargeted_refusal("http://127.0.0.1:8080/robots.txt", [shop, remote]) is None
    off_site = untargeted_refusal("http://127.0.0.1:9090/robots.txt", [shop, remote])
    assert off_site and "not on the site of any competitor" in off_site
    metadata = _site("169.254.169.254", local=False)
    refused = untargeted_refusal("http://169.254.169.254/robots.txt", [metadata])
    assert refused and "non-public address" in refused
    both = [_site("127.0.0.1", local=True), _site("127.0.0.1", local=False)]
    assert untargeted_refusal("http://127.0.0.1/robots.txt", both)  # the stricter one holds
    assert untargeted_refusal("http://127.0.0.1:8080/robots.txt", [])  # no competitor: refused


def test_the_middleware_checks_robots_txt_requests() -> None:
    crawler = SimpleNamespace(
        spider=SimpleNamespace(egress_sites=[_site("127.0.0.1:8080", local=True)])
    )
    middleware = EgressPolicyMiddleware(crawler)
    robots = "http://127.0.0.1:8080/robots.txt"
    asyncio.run(middleware.process_request(Request(robots, meta={"dont_obey_robotstxt": True})))
    moved = Request("http://169.254.169.254/robots.txt", meta={"dont_obey_robotstxt": True})
    with pytest.raises(IgnoreRequest, match="egress refused"):
        asyncio.run(middleware.process_request(moved))


@pytest.mark.slow
def test_a_robots_txt_redirect_off_site_is_not_followed(
    settings_from: Callable[[str], Settings], engine: Engine, http_server: LoopbackServer
) -> None:
    with LoopbackServer() as other:
        other.route("/robots.txt", Response(200, b"User-agent: *\nDisallow: /\n"))
        a = http_server
        a.route("/robots.txt", Response(302, b"", {"Location": other.url("/robots.txt")}))
        a.route("/p/ok", _jsonld_page(1000))
        settings = settings_from(
            f"""
            [crawl]
            timeout = "5s"
            retries = 0
            autothrottle = false

            [[competitors]]
            name = "shop"
            domain = "127.0.0.1:{a.port}"
            local = true
            delay = 0
            """
        )
        ids = _listings(settings, engine, a, {"shop": ["/p/ok"]})
        result = run_crawl(settings, timeout=120)
        assert result.status == "ok", result.error
        assert other.requests == []  # the redirect of robots.txt was refused
    assert [r.path for r in a.requests].count("/robots.txt") == 1
    with session_scope(engine) as session:
        [obs] = session.execute(select(Observation)).scalars().all()
    assert (obs.listing_id, obs.status, obs.price) == (ids[("shop", "/p/ok")], "ok", 100000)


def _lookups(monkeypatch: pytest.MonkeyPatch, addresses: dict[str, str]) -> list[str]:
    """Answer name lookups from ``addresses`` and record each one asked."""
    asked: list[str] = []

    def getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[object]:
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (addresses[host], port))]

    monkeypatch.setattr(egress.socket, "getaddrinfo", getaddrinfo)
    return asked


def _targeted(url: str, domain: str, *, local: bool = False) -> Request:
    competitor = SimpleNamespace(name=domain, domain=domain, aliases=[], local=local)
    return Request(url, meta={"target": SimpleNamespace(competitor=competitor)})


def test_the_middleware_resolves_a_host_once_and_keeps_refusing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked = _lookups(monkeypatch, {"shop.example": "93.184.216.34", "inner.example": "10.0.0.7"})

    async def crawl(middleware: EgressPolicyMiddleware) -> None:
        for i in range(3):
            await middleware.process_request(
                _targeted(f"https://shop.example/p/{i}", "shop.example")
            )
            with pytest.raises(IgnoreRequest, match=r"non-public address 10\.0\.0\.7"):
                await middleware.process_request(
                    _targeted(f"https://inner.example/p/{i}", "inner.example")
                )
            with pytest.raises(IgnoreRequest, match="not on the competitor's domain"):
                await middleware.process_request(_targeted("https://evil.example/", "shop.example"))

    asyncio.run(crawl(EgressPolicyMiddleware(SimpleNamespace(spider=None))))
    assert asked == ["shop.example", "inner.example"]  # once per host, not per request
    expiring = EgressPolicyMiddleware(SimpleNamespace(spider=None))
    expiring.LOOKUP_TTL_S = 0.0  # a remembered resolution expires: asked again
    asyncio.run(crawl(expiring))
    assert asked.count("shop.example") == 4 and asked.count("inner.example") == 4


def test_the_middleware_resolves_nothing_for_addresses_and_local_competitors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked = _lookups(monkeypatch, {})
    middleware = EgressPolicyMiddleware(SimpleNamespace(spider=None))

    async def crawl() -> None:
        await middleware.process_request(
            _targeted("http://localhost:8080/p", "localhost:8080", local=True)
        )
        with pytest.raises(IgnoreRequest, match="non-public address"):
            await middleware.process_request(_targeted("http://127.0.0.1/p", "127.0.0.1"))

    asyncio.run(crawl())
    asyncio.run(crawl())
    assert asked == []
