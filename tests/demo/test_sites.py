"""The demo's loopback shops and feeds: every page extracts as its shop intends, feeds
are cp1251/UTF-8 with ETags, and the market moves between cycles."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from repricer.config import SelectorSettings
from repricer.demo._data import BROKEN_SHOP, SHOP_PRICES
from repricer.demo.market import Market
from repricer.demo.sites import DemoSites
from repricer.synthetic.pages import SELECTORS
from spiders.pages import extract_product


@pytest.fixture
def sites() -> Iterator[DemoSites]:
    with DemoSites(Market()) as running:
        yield running


def fetch(url: str, **headers: str) -> httpx.Response:
    return httpx.get(url, headers=headers, timeout=10)


@pytest.mark.parametrize(
    ("shop", "sku", "method"),
    [
        ("jsonld-shop", "DEMO-001", "json-ld"),
        ("micro-shop", "DEMO-002", "microdata"),
        ("plain-shop", "DEMO-003", "selectors"),
        ("broken-shop", "DEMO-004", "json-ld"),
    ],
)
def test_static_pages_extract_the_market_price(
    sites: DemoSites, shop: str, sku: str, method: str
) -> None:
    response = fetch(sites.page_url(shop, sku))
    selectors = SelectorSettings(**SELECTORS) if shop == "plain-shop" else None  # type: ignore[arg-type]
    product = extract_product(response.text, str(response.url), selectors)
    assert response.status_code == 200
    assert product.method == method
    assert product.price == Decimal(SHOP_PRICES[(shop, sku)] or 0) / 100
    assert product.currency == "RUB"


def test_plain_shop_has_no_structured_data(sites: DemoSites) -> None:
    response = fetch(sites.page_url("plain-shop", "DEMO-003"))
    method = extract_product(response.text, str(response.url)).method
    assert method not in ("json-ld", "microdata", "rdfa", "opengraph")


def test_js_page_has_no_price_without_a_browser(sites: DemoSites) -> None:
    response = fetch(sites.page_url("js-shop", "DEMO-005"))
    assert extract_product(response.text, str(response.url)).price is None


def test_broken_shop_is_mostly_broken(sites: DemoSites) -> None:
    listed = [sku for shop, sku in SHOP_PRICES if shop == BROKEN_SHOP]
    answers = {sku: fetch(sites.page_url(BROKEN_SHOP, sku)) for sku in listed}
    priced = [
        sku
        for sku, r in answers.items()
        if r.status_code == 200 and extract_product(r.text, str(r.url)).price is not None
    ]
    assert priced == ["DEMO-004"]
    assert answers["DEMO-001"].status_code == 404
    assert fetch(sites.page_url(BROKEN_SHOP, "NOPE")).status_code == 404


def test_feeds_are_served_with_etags_and_their_encodings(sites: DemoSites) -> None:
    yml = fetch(sites.feed_url("alpha.yml"))
    assert yml.status_code == 200
    assert b'<offer id="DEMO-006" available="false">' in yml.content
    assert (
        fetch(sites.feed_url("alpha.yml"), **{"If-None-Match": yml.headers["etag"]}).status_code
        == 304
    )
    csv = fetch(sites.feed_url("beta.csv"))
    text = csv.content.decode("cp1251")
    assert text.startswith("Артикул;Наименование;Цена закупки;Остаток\r\n")
    assert "DEMO-006;Миксер Whisk 300;2\u00a0150,50;0" in text
    with pytest.raises(UnicodeDecodeError):
        csv.content.decode("utf-8")


def test_market_moves_and_the_sites_follow(sites: DemoSites) -> None:
    before = fetch(sites.feed_url("alpha.yml"))
    page_before = fetch(sites.page_url("jsonld-shop", "DEMO-001")).text
    changes = sites.market.advance()
    assert changes
    assert fetch(sites.page_url("jsonld-shop", "DEMO-001")).text != page_before
    after = fetch(sites.feed_url("alpha.yml"), **{"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200  # a changed feed is sent again
