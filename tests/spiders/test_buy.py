"""The buy control nearest the title, looked for in the blocks just above it before the
whole page: the same control a ranking of every control on the page gives."""

from __future__ import annotations

import pytest

from spiders.pages.region import _BUY_CSS as BUY_CSS
from spiders.pages.region import PageRegion
from spiders.pages.tree import parse_html

PAGE = """<html><head><meta name="add-to-cart-url" content="/cart"></head><body>
<header><button class="add-to-cart">Add to cart</button></header>
<div class="product"><div class="info"><h1>Kettle</h1><p>Steel</p></div>
  <div class="box"><form><button id="buy-now">Add to cart</button></form></div></div>
<ul class="carousel"><li><button class="add-to-cart">Add to cart</button></li></ul>
</body></html>"""


def _ranked_by_hand(region: PageRegion) -> str | None:
    controls = region.doc.css(BUY_CSS)
    steps = region._from_heading
    ranked = sorted(range(len(controls)), key=lambda i: (steps(controls[i]), i))
    chosen = next((controls[i] for i in ranked if region._is_buy_control(controls[i])), None)
    return chosen.attributes.get("id") if chosen is not None else None


def test_the_control_beside_the_title_not_the_first_on_the_page() -> None:
    doc = parse_html(PAGE)
    assert doc is not None
    region = PageRegion(doc, "https://shop.example/kettle")
    assert region.buy_button is not None
    assert region.buy_button.attributes.get("id") == "buy-now" == _ranked_by_hand(region)


@pytest.mark.parametrize("far", [0, 1, 5])
def test_a_control_far_above_the_title_is_found_as_the_ranking_finds_it(far: int) -> None:
    title = "<div>" * far + "<h1>Kettle</h1>" + "</div>" * far
    doc = parse_html(f"<body><div id='buy-box'><p>Add to cart</p><div>{title}</div></div></body>")
    assert doc is not None
    region = PageRegion(doc, "https://shop.example/kettle")
    assert region.buy_button is not None
    assert region.buy_button.attributes.get("id") == "buy-box" == _ranked_by_hand(region)


def test_no_control_in_the_body_falls_back_to_the_head() -> None:
    head = '<head><meta name="add-to-cart-url" content="/cart"></head>'
    doc = parse_html(
        f"<html>{head}<body><div><h1>Kettle</h1><p>Add to cart</p></div></body></html>"
    )
    assert doc is not None
    region = PageRegion(doc, "https://shop.example/kettle")
    assert region.buy_button is not None and region.buy_button.tag == "meta"
