"""OpenGraph and product ``<meta>`` tags (``product:price:amount``, ``og:price:amount``,
``product:sale_price:amount``, ``product:availability`` …) and page-level titles."""

from __future__ import annotations

from decimal import Decimal

from spiders.pages.found import Found
from spiders.pages.tree import Document, Node, text_of
from spiders.pages.values import (
    clean_text,
    find_currency,
    parse_availability,
    parse_gtin,
    parse_price,
)

METHOD = "opengraph"
PRICE_KEYS = ("product:price:amount", "og:price:amount", "product:price", "og:price")
SALE_KEYS = ("product:sale_price:amount", "og:sale_price:amount")
OLD_KEYS = ("product:original_price:amount", "og:original_price:amount")
CURRENCY_KEYS = (
    "product:price:currency", "og:price:currency", "product:sale_price:currency",
    "product:currency", "og:currency",
)  # fmt: skip
AVAILABILITY_KEYS = ("product:availability", "og:availability", "product:stock")


def read_meta(doc: Document) -> dict[str, str]:
    """``<meta property|name=… content=…>`` as a dict (first occurrence, keys lower-case)."""
    meta: dict[str, str] = {}
    head = doc.head
    for element in (head or doc).css("meta[content]"):
        attrs = element.attributes
        key = attrs.get("property") or attrs.get("name")
        content = attrs.get("content")
        if key and content is not None:
            meta.setdefault(key.strip().lower(), content)
    return meta


def find_opengraph(meta: dict[str, str]) -> Found | None:
    """Price from product meta tags; a sale price wins and the regular one becomes old."""
    regular = _first_price(meta, PRICE_KEYS)
    sale = _first_price(meta, SALE_KEYS)
    raw = next((meta[k] for k in PRICE_KEYS + SALE_KEYS if k in meta), None)
    if regular is None and sale is None and raw is None:
        return _twitter_price(meta)
    if regular is None and sale is None:
        return (
            Found(METHOD, reason=f"unreadable meta price {raw!r}") if raw and raw.strip() else None
        )
    price = sale if sale is not None else regular
    old = regular if sale is not None and regular is not None and regular > sale else None
    old = old or _first_price(meta, OLD_KEYS)
    return Found(
        METHOD,
        price=price,
        old_price=old if old is not None and price is not None and old > price else None,
        currency=find_currency(next((meta[k] for k in CURRENCY_KEYS if k in meta), None)),
        availability=parse_availability(
            next((meta[k] for k in AVAILABILITY_KEYS if k in meta), None)
        ),
        sku=clean_text(meta.get("product:retailer_item_id") or meta.get("product:sku"), 100),
        gtin=parse_gtin(
            meta.get("product:ean") or meta.get("product:gtin") or meta.get("product:upc")
        ),
        title=clean_text(meta.get("og:title")),
        brand=clean_text(meta.get("product:brand"), 200),
    )


def _twitter_price(meta: dict[str, str]) -> Found | None:
    """Twitter card ``twitter:label1 = "Price"`` / ``twitter:data1 = "2 490 ₽"``."""
    for n in ("1", "2"):
        label = meta.get(f"twitter:label{n}", "").strip().lower()
        text = meta.get(f"twitter:data{n}")
        if label in ("price", "цена", "стоимость") and text:
            currency = find_currency(text)
            price = parse_price(text) if currency else None
            return (
                Found(
                    METHOD,
                    price=price,
                    currency=currency,
                    title=clean_text(meta.get("twitter:title")),
                )
                if price
                else None
            )
    return None


def page_title(doc: Document, meta: dict[str, str], heading: Node | None) -> str | None:
    """og:title, else the page's first <h1> (``heading``, found beforehand), else <title>."""
    title = clean_text(meta.get("og:title"))
    if title:
        return title
    text = clean_text(text_of(heading)) if heading is not None else None
    if text:
        return text
    element = doc.css_first("title")
    return clean_text(text_of(element)) if element is not None else None


def _first_price(meta: dict[str, str], keys: tuple[str, ...]) -> Decimal | None:
    for key in keys:
        if key in meta:
            return parse_price(meta[key])
    return None
