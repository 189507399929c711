"""The demo's data tables: our catalog, two suppliers, five competitor shops.

Amounts are whole kopecks. The starting state is chosen so every expected price can be
worked out by hand from the demo rules (see ``rules_text`` in ``files.py``):

- DEMO-001 kettle: lowest competitor 1 349 ₽ (JSON-LD shop) beats a microdata 1 399 ₽.
- DEMO-002 iron: the only competitor sells below our floor (cost 2 000 + 12%), so we
  are held at the floor.
- DEMO-003 blender: we are far below the only competitor (selector-only shop) and are
  raised back just under it.
- DEMO-004 hair dryer: its only competitor is the broken shop, unhealthy this run, so
  the (absurd) price it shows is ignored and our price stays.
- DEMO-005 toaster: the only competitor renders its price with JavaScript.
- DEMO-006 mixer: no supplier has stock: the storefront must show it unavailable.
- DEMO-007 coffee grinder: supplier alpha is cheaper but out of stock, so beta's cost
  counts; two competitors.
- DEMO-008 scales: no competitor at all: the price is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

SUPPLIERS = ("alpha", "beta")  # alpha: YML (UTF-8), beta: CSV (cp1251, ';', decimal comma)
SHOPS = ("jsonld-shop", "micro-shop", "plain-shop", "js-shop", "broken-shop")
BROWSER_SHOPS = ("js-shop",)
BROKEN_SHOP = "broken-shop"


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    title: str
    brand: str
    category: str
    gtin: str
    price: int  # our current price, kopecks


PRODUCTS = (
    DemoProduct(
        "DEMO-001", "Чайник электрический Aqua 1,7 л", "Aqua", "Кухня", "4600000000011", 128900
    ),
    DemoProduct("DEMO-002", "Утюг Steam Pro 2400", "Steam", "Дом", "4600000000028", 248900),
    DemoProduct("DEMO-003", "Блендер Mix 600", "Mix", "Кухня", "4600000000035", 198900),
    DemoProduct("DEMO-004", "Фен Breeze 2000", "Breeze", "Красота", "4600000000042", 188900),
    DemoProduct("DEMO-005", "Тостер Crisp 2", "Crisp", "Кухня", "4600000000059", 268900),
    DemoProduct("DEMO-006", "Миксер Whisk 300", "Whisk", "Кухня", "4600000000066", 328900),
    DemoProduct("DEMO-007", "Кофемолка Grind", "Grind", "Кухня", "4600000000073", 138900),
    DemoProduct("DEMO-008", "Весы кухонные Scale", "Scale", "Кухня", "4600000000080", 98900),
)

# (supplier, sku) -> (cost in kopecks, stock quantity)
OFFERS: dict[tuple[str, str], tuple[int, int]] = {
    ("alpha", "DEMO-001"): (100000, 12),
    ("alpha", "DEMO-002"): (200000, 5),
    ("alpha", "DEMO-003"): (150000, 7),
    ("alpha", "DEMO-004"): (120000, 9),
    ("alpha", "DEMO-006"): (210000, 0),
    ("alpha", "DEMO-007"): (90000, 0),
    ("beta", "DEMO-005"): (180000, 4),
    ("beta", "DEMO-006"): (215050, 0),
    ("beta", "DEMO-007"): (95000, 6),
    ("beta", "DEMO-008"): (60000, 20),
}

# (shop, sku) -> competitor price in kopecks; None: the shop's page is broken (404 or
# a layout without any price).
SHOP_PRICES: dict[tuple[str, str], int | None] = {
    ("jsonld-shop", "DEMO-001"): 134900,
    ("micro-shop", "DEMO-001"): 139900,
    ("micro-shop", "DEMO-002"): 210000,
    ("plain-shop", "DEMO-003"): 229000,
    ("broken-shop", "DEMO-004"): 99000,
    ("js-shop", "DEMO-005"): 259000,
    ("jsonld-shop", "DEMO-006"): 319000,
    ("plain-shop", "DEMO-007"): 149000,
    ("micro-shop", "DEMO-007"): 145000,
    ("broken-shop", "DEMO-001"): None,
    ("broken-shop", "DEMO-002"): None,
    ("broken-shop", "DEMO-005"): None,
}
