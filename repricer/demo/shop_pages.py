"""Product pages of the demo competitor shops, one markup style per shop.

- jsonld-shop: schema.org Product in JSON-LD
- micro-shop: schema.org microdata (itemprop="price" content=...)
- plain-shop: no structured data; the price is found by the CSS selectors in config,
  and a "related products" block carries other prices that must not be taken
- js-shop: the page ships no price; JavaScript inserts it (needs the browser)
- broken-shop: a layout change: most pages have no price, one shows a nonsense price
"""

from __future__ import annotations

import json
from html import escape

from repricer.demo._data import DemoProduct

PLAIN_SELECTORS = {
    "price": ".cost-now",
    "availability": ".stock-state",
    "in_stock": ["в наличии"],
    "out_of_stock": ["нет в наличии"],
}


def rubles(kopecks: int) -> str:
    """1349.00 -> "1 349 ₽" (NBSP thousands, as Russian shops print it)."""
    whole = f"{kopecks // 100:,}".replace(",", "\u00a0")
    return f"{whole}\u00a0₽"


def render_page(shop: str, product: DemoProduct, price: int | None) -> str:
    """The HTML of ``product``'s page on ``shop``; ``price`` None gives a page without one."""
    title = escape(product.title)
    if price is None:
        body = f"<h1>{title}</h1><div class='new-layout'>Цена по запросу</div>"
    elif shop == "jsonld-shop":
        body = _jsonld(product, price)
    elif shop == "micro-shop":
        body = _microdata(product, price)
    elif shop == "plain-shop":
        body = _plain(product, price)
    elif shop == "js-shop":
        body = _scripted(product, price)
    else:
        body = _jsonld(product, price)
    return (
        "<!doctype html><html lang='ru'><head><meta charset='utf-8'>"
        f"<title>{title} — {shop}</title></head><body>{body}</body></html>"
    )


def _ld(product: DemoProduct, price: int) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": product.title,
        "sku": product.sku,
        "gtin13": product.gtin,
        "brand": {"@type": "Brand", "name": product.brand},
        "offers": {
            "@type": "Offer",
            "price": f"{price / 100:.2f}",
            "priceCurrency": "RUB",
            "availability": "https://schema.org/InStock",
        },
    }
    return json.dumps(data, ensure_ascii=False)


def _jsonld(product: DemoProduct, price: int) -> str:
    return (
        f"<script type='application/ld+json'>{_ld(product, price)}</script>"
        f"<h1>{escape(product.title)}</h1><p class='price'>{rubles(price)}</p>"
        "<button>В корзину</button>"
    )


def _microdata(product: DemoProduct, price: int) -> str:
    return (
        "<div itemscope itemtype='https://schema.org/Product'>"
        f"<h1 itemprop='name'>{escape(product.title)}</h1>"
        f"<meta itemprop='gtin13' content='{product.gtin}'>"
        "<div itemprop='offers' itemscope itemtype='https://schema.org/Offer'>"
        f"<span itemprop='price' content='{price / 100:.2f}'>{rubles(price)}</span>"
        "<meta itemprop='priceCurrency' content='RUB'>"
        "<link itemprop='availability' href='https://schema.org/InStock'>В наличии"
        "</div></div>"
    )


def _plain(product: DemoProduct, price: int) -> str:
    related = "".join(
        f"<li><a href='#'>Аксессуар {i}</a> <span class='cost'>{rubles(price // (i + 2))}</span></li>"
        for i in range(3)
    )
    return (
        f"<div class='card'><h1 class='card-title'>{escape(product.title)}</h1>"
        f"<div class='cost-now'>{rubles(price)}</div>"
        "<div class='stock-state'>В наличии</div></div>"
        f"<h2>С этим товаром покупают</h2><ul class='related'>{related}</ul>"
    )


def _scripted(product: DemoProduct, price: int) -> str:
    # Price and JSON-LD only exist after the script runs; a plain HTTP fetch sees neither.
    ld = json.dumps(_ld(product, price))
    shown = json.dumps(rubles(price))
    return (
        f"<h1>{escape(product.title)}</h1><div id='price'></div>"
        "<script>(function () {"
        f"document.getElementById('price').textContent = {shown};"
        "var s = document.createElement('script'); s.type = 'application/ld+json';"
        f"s.textContent = {ld}; document.head.appendChild(s);"
        "})();</script>"
    )
