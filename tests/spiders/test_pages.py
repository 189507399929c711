"""Golden pages: tests/fixtures/pages/<case>/{page.html, expected.json}.

expected.json holds the page ``url``, optional ``selectors`` and the expected fields;
``price``/``old_price`` are decimal strings (or null); ``reason_contains`` checks the
reason given for a missing price; ``blocked`` checks the captcha detector.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from repricer.config import SelectorSettings
from spiders.pages import ExtractedProduct, extract_product, looks_blocked, parse_html

CASES_DIR = Path(__file__).parents[1] / "fixtures" / "pages"
CASES = sorted(p.name for p in CASES_DIR.iterdir() if (p / "expected.json").exists())
FIELDS = ("currency", "availability", "sku", "gtin", "title", "method", "is_product", "brand")


def _load(name: str) -> tuple[bytes, dict[str, Any]]:
    folder = CASES_DIR / name
    return (folder / "page.html").read_bytes(), json.loads(
        (folder / "expected.json").read_text("utf-8")
    )


def test_there_are_enough_golden_pages() -> None:
    assert len(CASES) >= 25


@pytest.mark.parametrize("name", CASES, ids=CASES)
def test_golden_page(name: str) -> None:
    raw, expected = _load(name)
    selectors = SelectorSettings(**expected["selectors"]) if "selectors" in expected else None
    result = extract_product(raw, expected["url"], selectors)
    _check(result, expected)
    if "blocked" in expected:
        assert looks_blocked(raw.decode("utf-8", "replace")) is expected["blocked"]


@pytest.mark.parametrize("name", CASES, ids=CASES)
def test_str_and_bytes_agree(name: str) -> None:
    raw, expected = _load(name)
    text = raw.decode("cp1251" if name == "windows_1251" else "utf-8")
    selectors = SelectorSettings(**expected["selectors"]) if "selectors" in expected else None
    assert extract_product(text, expected["url"], selectors) == extract_product(
        raw, expected["url"], selectors
    )


def _check(result: ExtractedProduct, expected: dict[str, Any]) -> None:
    for key in ("price", "old_price"):
        if key in expected:
            want = None if expected[key] is None else Decimal(expected[key])
            assert getattr(result, key) == want, f"{key}: {result}"
    for key in FIELDS:
        if key in expected:
            assert getattr(result, key) == expected[key], f"{key}: {result}"
    if expected.get("price") is None:
        assert result.price is None and result.method is None and result.reason, result
    if "reason_contains" in expected:
        assert expected["reason_contains"] in (result.reason or ""), result


GARBAGE: list[tuple[str, str | bytes]] = [
    ("empty", ""),
    ("empty-bytes", b""),
    ("whitespace", "   \n "),
    ("binary", bytes(range(256)) * 20),
    ("png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 500),
    ("json", '{"price": 100}'),
    (
        "xml-declaration",
        '<?xml version="1.0" encoding="utf-8"?><html><body><p>hi</p></body></html>',
    ),
    (
        "broken-jsonld",
        '<script type="application/ld+json">{"@type": "Product", "offers": {</script>',
    ),
    ("jsonld-not-object", '<script type="application/ld+json">[1, "x", null]</script>'),
    (
        "jsonld-price-text",
        '<script type="application/ld+json">{"@type":"Product","offers":{"price":"Call us"}}</script>',
    ),
    (
        "jsonld-zero",
        '<script type="application/ld+json">{"@type":"Product","offers":{"price":0}}</script>',
    ),
    (
        "jsonld-negative",
        '<script type="application/ld+json">{"@type":"Product","offers":{"price":-5}}</script>',
    ),
    (
        "jsonld-huge",
        '<script type="application/ld+json">{"@type":"Product","offers":{"price":1e300}}</script>',
    ),
    (
        "jsonld-nan",
        '<script type="application/ld+json">{"@type":"Product","offers":{"price":NaN}}</script>',
    ),
    (
        "jsonld-list-price",
        '<script type="application/ld+json">{"@type":"Product","offers":{"price":[1,2]}}</script>',
    ),
    ("pieces", '<div class="price">5 шт</div>'),
    ("two-numbers", '<div class="price">2 x 1 299 ₽</div>'),
    ("deep-nesting", "<div>" * 3000 + '<span class="price">1 ₽</span>' + "</div>" * 3000),
]


@pytest.mark.parametrize(("name", "page"), GARBAGE, ids=[g[0] for g in GARBAGE])
def test_garbage_gives_no_price_and_a_reason(name: str, page: str | bytes) -> None:
    result = extract_product(page, "https://shop.example/x")
    if name == "deep-nesting":
        return  # must simply not crash; lxml caps the depth
    assert result.price is None
    assert result.reason


def test_parse_html_of_nothing_is_none() -> None:
    assert parse_html(b"") is None
    assert parse_html("  ") is None


@pytest.mark.parametrize(
    ("snippet", "price"),
    [
        (
            '<meta itemprop="price" content="1990"><meta itemprop="priceCurrency" content="RUB">',
            "1990",
        ),
        (
            '<script type="application/ld+json">{"@type":["Product","Thing"],"offers":{"@type":"AggregateOffer","offers":[{"price":"10.50"},{"price":"10.50"}]}}</script>',
            "10.50",
        ),
        (
            '<script type="application/ld+json">{"@context":"https://schema.org","@type":"WebPage","mainEntity":{"@type":"Product","offers":{"price":"3 100"}}}</script>',
            "3100",
        ),
        (
            '<script type="application/ld+json">{"@type":"Product","offers":{"priceSpecification":{"price":99,"referenceQuantity":{"value":100,"unitCode":"GRM"}}}}</script>',
            None,
        ),
        (
            '<script type="application/ld+json">{"@type":"Product","offers":{"price":"2,490","priceCurrency":"RUB"}}</script>',
            "2490",
        ),
        (
            '<meta name="twitter:label1" content="Цена"><meta name="twitter:data1" content="2 490 руб.">',
            "2490",
        ),
        (
            '<script type="application/ld+json">{"@type":"Product","offers":{"price":990,"priceCurrency":"RUR"}}</script><meta property="product:price:amount" content="990"><meta property="product:price:currency" content="RUB">',
            "990",
        ),
    ],
    ids=[
        "bare-meta-itemprop",
        "nested-aggregate",
        "main-entity",
        "unit-spec",
        "comma-thousands",
        "twitter-card",
        "rur-code",
    ],
)
def test_structured_variants(snippet: str, price: str | None) -> None:
    result = extract_product(f"<html><head>{snippet}</head><body></body></html>", "https://s/x")
    assert result.price == (Decimal(price) if price else None), result


@settings(max_examples=150, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list('<>/"= ₽$.,0123456789 abcdeiprstlfowx{}[]:;-\u00a0')),
        max_size=300,
    )
)
def test_any_text_is_handled_without_exceptions(page: str) -> None:
    result = extract_product(page, "https://shop.example/x")
    assert result.price is None or result.price > 0


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=500))
def test_any_bytes_are_handled_without_exceptions(page: bytes) -> None:
    result = extract_product(page, "https://shop.example/x")
    assert result.price is None or result.price > 0


@settings(max_examples=100, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["@type", "offers", "price", "@graph", "priceSpecification", "lowPrice", "hasVariant", "@id", "availability", "priceCurrency"]), inner, max_size=4),
                    max_leaves=12))  # fmt: skip
def test_any_jsonld_is_handled_without_exceptions(data: object) -> None:
    page = f'<script type="application/ld+json">{json.dumps(data)}</script>'
    result = extract_product(page, "https://shop.example/x")
    assert result.price is None or result.price > 0


@pytest.mark.parametrize(
    ("selector", "reason"),
    [
        ("//@@@", "invalid price selector"),
        ("div[", "invalid price selector"),
        (".nothing", "matched nothing"),
    ],
)
def test_bad_or_missing_selector_gives_a_reason(selector: str, reason: str) -> None:
    result = extract_product(
        '<div><a class="p">12 ₽</a></div>', "https://s/x", SelectorSettings(price=selector)
    )
    assert result.price is None and reason in (result.reason or "")
