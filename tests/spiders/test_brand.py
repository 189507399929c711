"""The brand a product page names, for matching discovered pages to the catalog."""

from __future__ import annotations

import pytest

from spiders.pages import extract_product

OFFER = '"offers": {"@type": "Offer", "price": "2490", "priceCurrency": "RUB"}'
CASES = [
    ("jsonld-text", f'<script type="application/ld+json">{{"@type": "Product", "name": "Kettle", "brand": "Bosch", {OFFER}}}</script>', "Bosch"),
    ("jsonld-object", f'<script type="application/ld+json">{{"@type": "Product", "name": "Kettle", "brand": {{"@type": "Brand", "name": "Tefal"}}, {OFFER}}}</script>', "Tefal"),
    ("jsonld-list", f'<script type="application/ld+json">{{"@type": "Product", "name": "Kettle", "brand": [{{"name": "Braun"}}], {OFFER}}}</script>', "Braun"),
    ("jsonld-manufacturer", f'<script type="application/ld+json">{{"@type": "Product", "name": "Kettle", "manufacturer": {{"@type": "Organization", "name": "Philips"}}, {OFFER}}}</script>', "Philips"),
    ("jsonld-none", f'<script type="application/ld+json">{{"@type": "Product", "name": "Kettle", {OFFER}}}</script>', None),
    ("microdata", '<div itemscope itemtype="https://schema.org/Product"><h1 itemprop="name">Kettle</h1><meta itemprop="brand" content="Vitek"><span itemprop="offers" itemscope itemtype="https://schema.org/Offer"><meta itemprop="price" content="990"><meta itemprop="priceCurrency" content="RUB"></span></div>', "Vitek"),
    ("opengraph", '<meta property="og:type" content="product"><meta property="og:title" content="Kettle"><meta property="product:brand" content="Scarlett"><meta property="product:price:amount" content="990"><meta property="product:price:currency" content="RUB">', "Scarlett"),
]  # fmt: skip


@pytest.mark.parametrize(("html", "brand"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_brand(html: str, brand: str | None) -> None:
    found = extract_product(f"<html><head>{html}</head><body></body></html>", "https://s.test/p")
    assert found.price is not None, found
    assert found.brand == brand
