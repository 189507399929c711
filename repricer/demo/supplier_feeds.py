"""The demo suppliers' price lists as served over HTTP.

alpha: a YML (Yandex Market Language) catalog in UTF-8; ``price`` is our purchase cost,
``available`` and ``count`` carry stock. beta: a CSV in cp1251 with ``;`` separators,
Russian headers, decimal commas and NBSP thousands, the way 1C exports it.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from repricer.demo._data import DemoProduct
from repricer.demo.market import Offer

BETA_COLUMNS = {"sku": "Артикул", "cost": "Цена закупки", "stock": "Остаток"}


def render_yml(offers: dict[str, Offer], products: tuple[DemoProduct, ...]) -> bytes:
    """The alpha feed: every offer, ``available="false"`` when out of stock."""
    titles = {p.sku: p for p in products}
    items = []
    for sku, offer in offers.items():
        product = titles[sku]
        items.append(
            f'<offer id="{sku}" available="{"true" if offer.stock > 0 else "false"}">'
            f"<price>{offer.cost // 100}.{offer.cost % 100:02d}</price><currencyId>RUR</currencyId>"
            f"<categoryId>1</categoryId><vendor>{escape(product.brand)}</vendor>"
            f"<vendorCode>{sku}</vendorCode><barcode>{product.gtin}</barcode>"
            f"<name>{escape(product.title)}</name><count>{offer.stock}</count></offer>"
        )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<yml_catalog date="2026-01-01 00:00"><shop><name>Alpha</name><company>Alpha wholesale</company>'
        '<url>http://127.0.0.1/</url><currencies><currency id="RUR" rate="1"/></currencies>'
        '<categories><category id="1">Бытовая техника</category></categories>'
        f"<offers>{''.join(items)}</offers></shop></yml_catalog>\n"
    )
    return body.encode("utf-8")


def render_csv(offers: dict[str, Offer], products: tuple[DemoProduct, ...]) -> bytes:
    """The beta feed: cp1251, ``;``, "1 234,50" amounts."""
    titles = {p.sku: p.title for p in products}
    header = ";".join(
        [BETA_COLUMNS["sku"], "Наименование", BETA_COLUMNS["cost"], BETA_COLUMNS["stock"]]
    )
    lines = [header]
    for sku, offer in offers.items():
        lines.append(f"{sku};{titles[sku]};{_decimal_comma(offer.cost)};{offer.stock}")
    return ("\r\n".join(lines) + "\r\n").encode("cp1251")


def _decimal_comma(kopecks: int) -> str:
    whole = f"{kopecks // 100:,}".replace(",", "\u00a0")
    return f"{whole},{kopecks % 100:02d}"
