"""Products in JSON-LD (``<script type="application/ld+json">``).

Handles ``@graph``, ``@id`` references, ``mainEntity``, Product / ProductGroup /
``hasVariant``, ``offers`` as Offer, AggregateOffer (``lowPrice``), a list or nested
offers, ``priceSpecification`` (a list too; strikethrough / list price types give the
old price; a spec quoted per unit is not the item's price), prices as numbers or
strings, availability URLs. Products inside ItemLists, and events
with offers (a ticket page), are only used when the page has no other product.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import chompjs

from spiders.pages._phrases import IN_STOCK, UNKNOWN
from spiders.pages.found import Found, Heading, choose_product, reduce_offers, same_url
from spiders.pages.values import (
    clean_text,
    find_currency,
    parse_availability,
    parse_gtin,
    parse_price,
)

METHOD = "json-ld"
PRODUCT_TYPES = frozenset(
    {"product", "productgroup", "individualproduct", "productmodel", "someproducts", "vehicle",
     "car", "book", "offer"}
)  # fmt: skip
# What a ticket page sells: read only when the page has no product at all.
EVENT_TYPES = frozenset(
    {"event", "musicevent", "theaterevent", "screeningevent", "sportsevent", "comedyevent",
     "danceevent", "festival", "exhibitionevent", "childrensevent", "literaryevent"}
)  # fmt: skip
OLD_PRICE_TYPES = ("strikethroughprice", "listprice", "msrp", "srp", "regularprice")
GTIN_KEYS = ("gtin13", "gtin", "gtin14", "gtin12", "gtin8", "ean", "isbn")
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_GUARD = r"(?:\s|/\*\s*(?:<!\[CDATA\[|\]\]>)?\s*\*/|//\s*(?:<!\[CDATA\[|\]\]>)|<!\[CDATA\[|\]\]>|<!--|-->)"
_GUARDS_START = re.compile(f"^{_GUARD}+")
_GUARDS_END = re.compile(f"{_GUARD}+$")
_GUARD_TAIL = 200  # characters: trailing guards and spaces longer than this stay (and JSON
# forgives trailing spaces anyway)


def find_jsonld(scripts: list[str], page_url: str, heading: Heading = None) -> Found | None:
    """The page's product from the texts of its JSON-LD scripts, ambiguous ``Found`` if
    it cannot tell, or None."""
    blocks = [b for b in map(load_json, scripts) if b is not None]
    if not blocks:
        return None
    index = _index_ids(blocks)
    read: dict[str, list[Found]] = {"main": [], "listed": [], "event": []}
    for node, kind in _walk(blocks, index):
        found = _read_product(node, index, page_url)
        if found is not None:
            read[kind].append(found)
    main, listed = read["main"], read["listed"]
    if not main and listed:
        mine = [p for p in listed if p.url and same_url(p.url, page_url)]
        return mine[0] if len(mine) == 1 else None
    return choose_product(METHOD, main or read["event"], page_url, heading)


def load_json(text: str) -> Any:
    """A script's JSON: comment and CDATA guards stripped (``/*<![CDATA[*/ … /*]]>*/``,
    ``<!-- … -->``), trailing commas forgiven, and JavaScript object literals (single
    quotes, bare keys) read as a last resort; None when it is not data."""
    text = _strip_guards(text)
    if not text:
        return None
    for attempt in (text, _TRAILING_COMMA.sub(r"\1", text)):
        try:
            return json.loads(attempt, strict=False)
        except ValueError:
            continue
    try:
        return chompjs.parse_js_object(text)
    except (ValueError, TypeError):
        return None


def _strip_guards(text: str) -> str:
    """``text`` without the comment/CDATA guards around it. The end is searched in the
    last characters only: a ``$``-anchored pattern would be tried at every position of
    a long script."""
    text = _GUARDS_START.sub("", text, count=1)
    tail = text[-_GUARD_TAIL:]
    end = _GUARDS_END.search(tail)
    return text[: len(text) - len(tail) + end.start()] if end else text


def _types(node: dict[str, Any]) -> set[str]:
    raw = node.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    return {re.split(r"[/:#]", v)[-1].lower() for v in values if isinstance(v, str)}


def _index_ids(blocks: list[Any]) -> dict[str, dict[str, Any]]:
    index: dict[str, dict[str, Any]] = {}
    stack: list[Any] = list(blocks)
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            if isinstance(item.get("@id"), str) and len(item) > 1:
                index.setdefault(item["@id"], item)
            stack.extend(v for v in item.values() if isinstance(v, dict | list))
    return index


def _deref(value: Any, index: dict[str, dict[str, Any]]) -> Any:
    if isinstance(value, dict) and set(value) <= {"@id", "@type"}:
        ref = value.get("@id")
        return index.get(ref, value) if isinstance(ref, str) else value
    return value


def _walk(
    blocks: list[Any], index: dict[str, dict[str, Any]]
) -> Iterator[tuple[dict[str, Any], str]]:
    """Product nodes, each with its kind: ``main`` (top level), ``listed`` (in an
    ItemList) or ``event`` (an event with offers)."""
    stack: list[tuple[Any, bool, int]] = [(b, False, 0) for b in reversed(blocks)]
    while stack:
        item, in_list, depth = stack.pop()
        item = _deref(item, index)
        if isinstance(item, list):
            stack.extend((i, in_list, depth) for i in reversed(item))
            continue
        if not isinstance(item, dict) or depth > 6:
            continue
        kinds = _types(item)
        if kinds & PRODUCT_TYPES:
            yield item, "listed" if in_list else "main"
            continue
        if kinds & EVENT_TYPES and "offers" in item and not in_list:
            yield item, "event"
            continue
        for key in ("@graph", "mainEntity", "mainEntityOfPage", "about", "item", "itemReviewed"):
            if key in item:
                stack.append((item[key], in_list, depth + 1))
        if "itemListElement" in item:
            stack.append((item["itemListElement"], True, depth + 1))


def _read_product(
    node: dict[str, Any], index: dict[str, dict[str, Any]], page_url: str
) -> Found | None:
    offers_raw = node.get("offers")
    if _types(node) == {"offer"}:
        offers_raw, item = node, _deref(node.get("itemOffered"), index)
        node = item if isinstance(item, dict) else node
    elif offers_raw is None and "price" in node:
        offers_raw = node
    variants = _as_list(_deref(node.get("hasVariant"), index))
    offers = [_read_offer(_deref(o, index), index) for o in _as_list(_deref(offers_raw, index))]
    found = reduce_offers(METHOD, [o for f in offers for o in f], page_url)
    if found is None and variants:
        found = _read_variants(variants, index, page_url)
    if found is None:
        return None
    return Found(
        METHOD,
        price=found.price,
        old_price=found.old_price,
        currency=found.currency,
        availability=found.availability,
        sku=found.sku
        or clean_text(node.get("sku") or node.get("mpn") or node.get("productID"), 100),
        gtin=found.gtin
        or next((g for g in (parse_gtin(node.get(k)) for k in GTIN_KEYS) if g), None),
        title=clean_text(node.get("name")),
        url=_url(node),
        reason=found.reason,
        candidates=found.candidates,
        brand=_brand(_deref(node.get("brand") or node.get("manufacturer"), index)),
    )


def _brand(value: Any) -> str | None:
    """``"Bosch"``, ``{"@type": "Brand", "name": "Bosch"}`` or a list of those."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name")
    return clean_text(value, 200)


def _read_variants(
    variants: list[Any], index: dict[str, dict[str, Any]], page_url: str
) -> Found | None:
    products = [
        p for p in (_read_product(_deref(v, index), index, page_url) for v in variants
                    if isinstance(_deref(v, index), dict)) if p is not None
    ]  # fmt: skip
    mine = [p for p in products if p.url and same_url(p.url, page_url)]
    if len(mine) == 1:
        return mine[0]
    return choose_product(METHOD, products, "")


def _read_offer(offer: Any, index: dict[str, dict[str, Any]]) -> list[Found]:
    if not isinstance(offer, dict):
        return []
    nested = offer.get("offers")
    price = parse_price(offer.get("price"))
    if price is None:
        price = parse_price(offer.get("lowPrice"))
    currency = find_currency(_str(offer.get("priceCurrency")))
    old_price = None
    for spec in _as_list(_deref(offer.get("priceSpecification"), index)):
        spec_price, spec_old, spec_currency = _read_spec(spec)
        price = price if price is not None else spec_price
        old_price = old_price or spec_old
        currency = currency or spec_currency
    availability = parse_availability(offer.get("availability"))
    if availability == UNKNOWN and _offer_count(offer) > 0:
        availability = IN_STOCK  # an aggregate of sellers' offers: someone sells it now
    if price is None and nested is not None:
        return [f for o in _as_list(nested) for f in _read_offer(_deref(o, index), index)]
    if price is None and "price" in offer and _str(offer.get("price")):
        return [Found(METHOD, reason=f"unreadable price {offer.get('price')!r}")]
    return [
        Found(METHOD, price=price, old_price=old_price, currency=currency,
              availability=availability, url=_url(offer),
              sku=clean_text(offer.get("sku") or offer.get("gtin13"), 100))
    ]  # fmt: skip


def _read_spec(spec: Any) -> tuple[Any, Any, str | None]:
    """(price, old price, currency) of one priceSpecification."""
    if not isinstance(spec, dict):
        return None, None, None
    quantity = spec.get("referenceQuantity")
    if isinstance(quantity, dict) and parse_price(quantity.get("value")) not in (None, 1):
        return None, None, None  # a price per 100 g / per metre
    kind = str(spec.get("priceType") or "").lower().rsplit("/", 1)[-1]
    price = parse_price(
        spec.get("price") if spec.get("price") is not None else spec.get("minPrice")
    )
    currency = find_currency(_str(spec.get("priceCurrency")))
    if kind in OLD_PRICE_TYPES:
        return None, price, currency
    return price, None, currency


def _offer_count(offer: dict[str, Any]) -> int:
    if "aggregateoffer" not in _types(offer):
        return 0
    count = offer.get("offerCount")
    if isinstance(count, str) and count.strip().isdigit():
        return int(count)
    return count if isinstance(count, int) and not isinstance(count, bool) else 0


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _url(node: dict[str, Any]) -> str | None:
    for key in ("url", "@id"):
        value = node.get(key)
        if isinstance(value, str) and value.startswith(("http", "/")):
            return value
    return None
