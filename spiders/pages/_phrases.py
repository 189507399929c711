"""Data tables for page extraction: schema.org availability values, stock phrases,
captcha markers and the class-name words the text heuristics look for.

Kept apart from the logic in :mod:`spiders.pages` so the tables can grow without
touching code. Phrases are lower-case; page text is lower-cased and its spaces
collapsed before matching.
"""

from __future__ import annotations

import re

IN_STOCK = "in_stock"
OUT_OF_STOCK = "out_of_stock"
UNKNOWN = "unknown"

# schema.org ItemAvailability (last path segment, lower-case) and OpenGraph
# product:availability values.
SCHEMA_AVAILABILITY: dict[str, str] = {
    "instock": IN_STOCK,
    "in stock": IN_STOCK,
    "in_stock": IN_STOCK,
    "limitedavailability": IN_STOCK,
    "onlineonly": IN_STOCK,
    "instoreonly": IN_STOCK,
    "available": IN_STOCK,
    "available for order": IN_STOCK,
    "outofstock": OUT_OF_STOCK,
    "out of stock": OUT_OF_STOCK,
    "out_of_stock": OUT_OF_STOCK,
    "oos": OUT_OF_STOCK,
    "soldout": OUT_OF_STOCK,
    "discontinued": OUT_OF_STOCK,
    # Ordered on demand: cannot be bought now, so not a competing offer today.
    "preorder": OUT_OF_STOCK,
    "presale": OUT_OF_STOCK,
    "backorder": OUT_OF_STOCK,
    "madetoorder": OUT_OF_STOCK,
    "pending": OUT_OF_STOCK,
}

# Visible stock phrases. Out-of-stock phrases are checked first: «нет в наличии»
# contains «в наличии».
OUT_OF_STOCK_PHRASES: tuple[str, ...] = (
    "нет в наличии",
    "нет на складе",
    "отсутствует",
    "под заказ",
    "предзаказ",
    "ожидается поступление",
    "ожидается",
    "снят с производства",
    "товар закончился",
    "распродано",
    "сообщить о поступлении",
    "out of stock",
    "sold out",
    "currently unavailable",
    "unavailable",
    "not available",
    "discontinued",
    "pre-order",
    "preorder",
    "backorder",
    "notify me when available",
    "немає в наявності",
)
IN_STOCK_PHRASES: tuple[str, ...] = (
    "в наличии",
    "есть в наличии",
    "на складе",
    "в наявності",
    "in stock",
    "available",
    "add to cart",
    "add to basket",
    "в корзину",
    "купить",
)

# A page saying one of these (with no product data) is a block / challenge page.
CAPTCHA_MARKERS: tuple[str, ...] = (
    "captcha",
    "are you a robot",
    "are you human",
    "verify you are human",
    "checking your browser",
    "access denied",
    "cf-challenge",
    "challenge-platform",
    "подтвердите, что вы не робот",
    "вы не робот",
    "доступ ограничен",
    "доступ запрещен",
    "доступ запрещён",
)


# Class / id words marking a price element, and words disqualifying it. Words must
# stand alone inside a class token (``price-old``, ``old_price``), so ``holder`` is not
# ``old`` and ``fullwidth`` is not ``full``.
def _words(*words: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z])(?:" + "|".join(words) + r")(?![a-z])", re.I)


PRICE_CLASS = re.compile(r"price|cost|cena|tsena|preis|prix|prezzo|precio", re.I)
OLD_PRICE_CLASS = re.compile(
    _words(
        "old",
        "was",
        "before",
        "regular",
        "compare",
        "compare-at",
        "strike",
        "strikethrough",
        "crossed",
        "original",
        "prev",
        "previous",
        "rrp",
        "msrp",
        "list",
        "base",
        "full",
    ).pattern
    + r"|oldprice|priceold|wasprice|price-?was|crossed|through",
    re.I,
)
NOT_PRICE_CLASS = _words(
    "unit",
    "units",
    "per",
    "month",
    "monthly",
    "credit",
    "installment",
    "instalment",
    "loan",
    "bonus",
    "bonuses",
    "cashback",
    "economy",
    "save",
    "saving",
    "savings",
    "discount",
    "percent",
    "delivery",
    "shipping",
    "filter",
    "range",
    "slider",
    "label",
    "title",
    "caption",
    "total",
    "sum",
    "tax",
    "from-to",
    "min",
    "max",
    "per-unit",
    "unit-price",
    "kg",
    "subscription",
)
# Containers whose prices belong to other products or to page furniture.
UNRELATED_CONTAINER = _words(
    "related",
    "recommend",
    "recommended",
    "recommendations",
    "similar",
    "also",
    "upsell",
    "upsells",
    "up-sell",
    "cross-sell",
    "crosssell",
    "accessories",
    "accessory",
    "viewed",
    "recently",
    "bundle",
    "bundles",
    "carousel",
    "swiper",
    "slick",
    "owl-carousel",
    "compare",
    "minicart",
    "mini-cart",
    "header",
    "footer",
    "menu",
    "nav",
    "navbar",
    "sidebar",
    "banner",
    "popup",
    "modal",
    "complect",
    "together",
    "analogs",
    "analog",
    "alternatives",
    "others",
    "catalog-item",
    "product-list",
    "products-list",
    "product-grid",
    "listing",
    "breadcrumbs",
)
UNRELATED_TAGS = frozenset({"header", "footer", "nav", "aside", "script", "style", "noscript"})
STOCK_CLASS = re.compile(r"stock|avail|nalich|nali4|presence|nalichie|instock|in-stock", re.I)

# A price quoted per unit of measure or per period is not the item's price.
PER_UNIT = re.compile(
    r"(/|\bза\s+1?\s*|\bper\s+|\bpro\s+|\ba\s+)\s*(кг|г|гр|л|мл|м|м2|м²|м\.|шт|уп|упак|пог|"
    r"kg|g|gr|l|ml|m|m2|m²|pcs|pc|piece|unit|item|lb|oz|ft|sq|мес|month|mo|год|year|day|день)\b"
    r"|\d\s*(шт|pcs|pc)\b\s*(по|x|×|\*)"
    r"|\b(x|×)\s*\d+\s*(мес|month)",
    re.I,
)
