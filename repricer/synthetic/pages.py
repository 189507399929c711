"""Product pages of synthetic competitor shops, one markup per way a shop can show a price.

- ``json-ld``: schema.org Product in JSON-LD (name, sku, gtin13, brand, offer);
- ``microdata``: schema.org microdata (``itemprop="price" content=...``);
- ``opengraph``: ``product:price:amount`` meta tags;
- ``selectors``: no structured data; the price sits in ``.cost-now`` (see
  :data:`SELECTORS`) beside a "bought together" block whose prices must not be taken;
- ``script``: the HTML has no price: JavaScript inserts it and the JSON-LD (a browser
  sees it, a plain fetch does not);
- ``none``: a page without a price ("price on request").

Prices are integer minor units; shown the Russian way (``1 349 ₽``,
:func:`repricer.money.format_money`). ``padded`` wraps the product in a menu, a long
description and related products, about the size of a real shop's page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from typing import Any

from repricer.money import format_money, from_minor

MARKUPS = ("json-ld", "microdata", "opengraph", "selectors", "script", "none")
# How a "selectors" page is read: competitor selectors as written in config.toml.
SELECTORS: dict[str, Any] = {
    "price": ".cost-now",
    "availability": ".stock-state",
    "in_stock": ["в наличии"],
    "out_of_stock": ["нет в наличии"],
}
_MENU = "".join(
    f'<li class="menu-item"><a href="/catalog/{i}">Категория {i}</a></li>' for i in range(120)
)
_DESCRIPTION = "<p>" + "Описание товара, характеристики и отзывы покупателей. " * 60 + "</p>"
_IN_STOCK = "https://schema.org/InStock"
_OUT_OF_STOCK = "https://schema.org/OutOfStock"


@dataclass(frozen=True)
class PageProduct:
    """What a page shows: ``price`` in minor units of ``currency`` (None: no price)."""

    title: str
    price: int | None
    currency: str = "RUB"
    sku: str | None = None
    gtin: str | None = None
    brand: str | None = None
    in_stock: bool = True


def product_page(
    product: PageProduct, markup: str = "json-ld", *, site: str = "", padded: bool = False
) -> str:
    """The HTML of ``product``'s page in ``markup`` (one of :data:`MARKUPS`)."""
    if markup not in MARKUPS:
        raise ValueError(f"markup {markup!r}: not one of {', '.join(MARKUPS)}")
    title = escape(product.title)
    head, body = _parts(product, "none" if product.price is None else markup)
    if padded:
        body = (
            f'<header><ul class="menu">{_MENU}</ul></header><main>{body}{_DESCRIPTION}'
            f'<section class="related">{_related(product.price or 0, 12)}</section></main>'
            "<footer>© Shop</footer>"
        )
    suffix = f" — {escape(site)}" if site else ""
    return (
        "<!doctype html><html lang='ru'><head><meta charset='utf-8'>"
        f"<title>{title}{suffix}</title>{head}</head><body>{body}</body></html>"
    )


def json_ld(product: PageProduct) -> str:
    """The page's schema.org Product as JSON-LD text."""
    offer: dict[str, Any] = {"@type": "Offer"}
    if product.price is not None:
        offer["price"] = str(from_minor(product.price, product.currency))
        offer["priceCurrency"] = product.currency
    offer["availability"] = _IN_STOCK if product.in_stock else _OUT_OF_STOCK
    data: dict[str, Any] = {"@context": "https://schema.org", "@type": "Product"}
    data["name"] = product.title
    data.update({k: v for k, v in (("sku", product.sku), ("gtin13", product.gtin)) if v})
    if product.brand:
        data["brand"] = {"@type": "Brand", "name": product.brand}
    data["offers"] = offer
    # "<" escaped so that no title can close the script element around it
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


def _parts(product: PageProduct, markup: str) -> tuple[str, str]:
    """(head, body) of the page."""
    title, price = escape(product.title), product.price or 0
    shown = format_money(price, product.currency)
    if markup == "json-ld":
        script = f"<script type='application/ld+json'>{json_ld(product)}</script>"
        return script, f"<h1>{title}</h1><p class='price'>{shown}</p><button>В корзину</button>"
    if markup == "microdata":
        return "", _microdata(product)
    if markup == "opengraph":
        amount = from_minor(price, product.currency)
        meta = (
            f"<meta property='og:title' content='{title}'>"
            f"<meta property='product:price:amount' content='{amount}'>"
            f"<meta property='product:price:currency' content='{product.currency}'>"
        )
        return meta, f"<h1>{title}</h1><p class='price'>{shown}</p>"
    if markup == "selectors":
        stock = "В наличии" if product.in_stock else "Нет в наличии"
        return "", (
            f"<div class='card'><h1 class='card-title'>{title}</h1>"
            f"<div class='cost-now'>{shown}</div><div class='stock-state'>{stock}</div></div>"
            f"<h2>С этим товаром покупают</h2><ul class='related'>{_related(price, 3)}</ul>"
        )
    if markup == "script":
        return "", _scripted(product)
    return "", f"<h1>{title}</h1><div class='new-layout'>Цена по запросу</div>"


def _microdata(product: PageProduct) -> str:
    price = product.price or 0
    gtin = f"<meta itemprop='gtin13' content='{product.gtin}'>" if product.gtin else ""
    stock = (_IN_STOCK, "В наличии") if product.in_stock else (_OUT_OF_STOCK, "Нет в наличии")
    return (
        "<div itemscope itemtype='https://schema.org/Product'>"
        f"<h1 itemprop='name'>{escape(product.title)}</h1>{gtin}"
        "<div itemprop='offers' itemscope itemtype='https://schema.org/Offer'>"
        f"<span itemprop='price' content='{from_minor(price, product.currency)}'>"
        f"{format_money(price, product.currency)}</span>"
        f"<meta itemprop='priceCurrency' content='{product.currency}'>"
        f"<link itemprop='availability' href='{stock[0]}'>{stock[1]}</div></div>"
    )


def _scripted(product: PageProduct) -> str:
    # Price and JSON-LD only exist after the script runs; a plain HTTP fetch sees neither.
    shown = json.dumps(format_money(product.price or 0, product.currency))
    return (
        f"<h1>{escape(product.title)}</h1><div id='price'></div>"
        "<script>(function () {"
        f"document.getElementById('price').textContent = {shown};"
        "var s = document.createElement('script'); s.type = 'application/ld+json';"
        f"s.textContent = {json.dumps(json_ld(product))}; document.head.appendChild(s);"
        "})();</script>"
    )


def _related(price: int, count: int) -> str:
    """Other products with their (lower) prices: a trap for a careless extractor."""
    return "".join(
        f"<li class='product-card'><a href='/p/r{i}'>Аксессуар {i}</a> "
        f"<span class='cost'>{format_money(price // (i + 2) // 100 * 100)}</span></li>"
        for i in range(count)
    )
