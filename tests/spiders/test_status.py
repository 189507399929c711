"""Outcome naming: HTTP codes, redirects, captchas and failures become statuses."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from twisted.internet.error import ConnectionRefusedError, TimeoutError

from repricer.config import CompetitorSettings, Settings
from spiders.pages import extract_product
from spiders.status import observe_failure, observe_page
from spiders.targets import Target

PRODUCT = (
    '<script type="application/ld+json">{"@type":"Product","offers":{"price":"19.99"}}</script>'
)
URL = "https://shop.example/p/123"


def _target(currency: str | None = None) -> Target:
    competitor = CompetitorSettings(name="shop", domain="shop.example", currency=currency)
    return Target(1, URL, "SKU1", None, competitor)


@pytest.fixture
def settings(settings_from: Callable[[str], Settings]) -> Settings:
    return settings_from("")


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (404, "not_found"),
        (410, "not_found"),
        (403, "blocked"),
        (429, "blocked"),
        (500, "error"),
        (418, "error"),
    ],
)
def test_http_errors_are_statuses_without_price(code: int, status: str, settings: Settings) -> None:
    page = (PRODUCT, extract_product(PRODUCT, URL))
    item = observe_page(_target(), code, URL, page, settings)
    assert (item.status, item.price, item.http_status) == (status, None, code)


def test_ok_page_uses_competitor_currency_then_pricing_currency(settings: Settings) -> None:
    page = (PRODUCT, extract_product(PRODUCT, URL))
    assert observe_page(_target("USD"), 200, URL, page, settings).currency == "USD"
    item = observe_page(_target(), 200, URL, page, settings)
    assert (item.status, item.price, item.currency) == ("ok", 1999, "RUB")


def test_redirect_to_category_is_redirect(settings: Settings) -> None:
    html = "<h1>Kettles</h1>"
    item = observe_page(
        _target(), 200, "https://shop.example/catalog", (html, extract_product(html, URL)), settings
    )
    assert item.status == "redirect" and item.price is None


def test_redirect_to_a_longer_slug_keeps_the_price(settings: Settings) -> None:
    final = "https://shop.example/p/123-kettle-bosch"
    item = observe_page(_target(), 200, final, (PRODUCT, extract_product(PRODUCT, final)), settings)
    assert item.status == "ok" and item.price == 1999


def test_redirect_to_another_product_is_not_trusted(settings: Settings) -> None:
    final = "https://shop.example/p/999"
    item = observe_page(_target(), 200, final, (PRODUCT, extract_product(PRODUCT, final)), settings)
    assert item.status == "redirect" and item.price is None


def test_captcha_with_200_is_blocked(settings: Settings) -> None:
    html = "<h1>Are you a robot?</h1><div class='g-recaptcha'></div>"
    item = observe_page(_target(), 200, URL, (html, extract_product(html, URL)), settings)
    assert item.status == "blocked"


def test_binary_body_and_priceless_page(settings: Settings) -> None:
    assert observe_page(_target(), 200, URL, None, settings).status == "error"
    html = "<h1>Kettle</h1><p>Call us</p>"
    item = observe_page(_target(), 200, URL, (html, extract_product(html, URL)), settings)
    assert item.status == "no_price" and item.reason


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (TimeoutError("User timeout caused connection failure"), "timeout"),
        (ConnectionRefusedError("refused"), "error"),
        (RuntimeError(""), "error"),
    ],
)
def test_failures(error: BaseException, status: str) -> None:
    item = observe_failure(_target(), error)
    assert item.status == status and item.price is None and item.reason


def test_robots_refusal_is_blocked() -> None:
    from scrapy.exceptions import IgnoreRequest

    item = observe_failure(_target(), IgnoreRequest("Forbidden by robots.txt"))
    assert item.status == "blocked" and "robots" in (item.reason or "")


def test_a_5xx_challenge_page_is_blocked(settings: Settings) -> None:
    html = "<title>Just a moment...</title><div id='cf-challenge'>Checking your browser</div>"
    item = observe_page(_target(), 503, URL, (html, extract_product(html, URL)), settings)
    assert item.status == "blocked" and item.http_status == 503
