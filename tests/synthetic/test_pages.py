"""Synthetic product pages extract as each markup intends: the price, the method that
found it and the stock, or no price at all where the page shows none."""

from __future__ import annotations

from decimal import Decimal

import pytest

from repricer.config import SelectorSettings
from repricer.synthetic.pages import SELECTORS, PageProduct, product_page
from spiders.pages import extract_product

KETTLE = PageProduct("Чайник <Aurora> & co", 134950, sku="KT-1", gtin="4600000000017", brand="A")


@pytest.mark.parametrize(
    ("markup", "method"),
    [
        ("json-ld", "json-ld"),
        ("microdata", "microdata"),
        ("opengraph", "opengraph"),
        ("selectors", "selectors"),
    ],
)
@pytest.mark.parametrize("padded", [False, True], ids=["bare", "padded"])
def test_priced_markups_extract_the_price(markup: str, method: str, padded: bool) -> None:
    selectors = SelectorSettings(**SELECTORS) if markup == "selectors" else None
    page = product_page(KETTLE, markup, site="alpha-shop", padded=padded)
    found = extract_product(page, "http://127.0.0.1/p/KT-1", selectors)
    assert (found.price, found.currency, found.method) == (Decimal("1349.50"), "RUB", method)
    assert "<Aurora>" not in page  # the title is escaped


def test_json_ld_carries_sku_gtin_and_stock() -> None:
    sold_out = PageProduct("Kettle", 99900, sku="KT-2", gtin="4600000000024", in_stock=False)
    found = extract_product(product_page(sold_out), "http://127.0.0.1/p/KT-2")
    assert (found.sku, found.gtin, found.availability) == ("KT-2", "4600000000024", "out_of_stock")


@pytest.mark.parametrize("markup", ["script", "none"])
def test_pages_without_a_price_in_the_html(markup: str) -> None:
    found = extract_product(product_page(KETTLE, markup), "http://127.0.0.1/p/KT-1")
    assert found.price is None


def test_a_missing_price_gives_a_page_without_one() -> None:
    page = product_page(PageProduct("Kettle", None), "json-ld")
    assert extract_product(page, "http://127.0.0.1/p/x").price is None
    assert "Цена по запросу" in page


def test_unknown_markup_is_refused() -> None:
    with pytest.raises(ValueError, match="markup 'rdfa'"):
        product_page(KETTLE, "rdfa")
