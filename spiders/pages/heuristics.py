"""Visible prices and stock badges of the main product.

A price candidate is an innermost element whose class/id names a price (``price``,
``cost``, ``preis``, ``prix``, ``cena`` …) or that carries ``data-price`` /
``itemprop=price``, visible, outside other products' blocks (:mod:`region`), whose
text is one amount with a currency. Struck-through or old-price-marked ones give the old
price. Among the current ones, those nearest the product's title and buy button win;
one value among them is the price, several are reported (``candidates``) so structured
data can settle it, or the page is refused.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import NamedTuple

from spiders.pages._phrases import (
    EX_VAT,
    NOT_PRICE_CLASS,
    OLD_PRICE_CLASS,
    PRICE_CLASS,
    STOCK_CLASS,
    UNKNOWN,
)
from spiders.pages.element import DIGIT, NOT_A_PRICE, Candidate, is_old, own_text
from spiders.pages.found import Found, distinct_prices, same_price
from spiders.pages.plaintext import text_prices
from spiders.pages.region import PageRegion
from spiders.pages.tree import Attributes, Node, ancestors, label, lineage
from spiders.pages.values import availability_from_text, find_currency, is_per_unit, parse_price

METHOD = "heuristic"
DATA_PRICE_ATTRS = ("data-price", "data-product-price", "data-price-amount")
# Each selector costs a walk of the block: ``itemprop=price`` is asked for only on pages
# with microdata.
PRICE_CSS = ",".join(
    ["[class*=price i],[id*=price i]"]
    + [f"[class*={w} i]" for w in ("cost", "preis", "prix", "prezzo", "precio", "cena")]
    + [f"[{a}]" for a in DATA_PRICE_ATTRS]
)  # fmt: skip
MICRODATA_PRICE_CSS = f"{PRICE_CSS},[itemprop=price]"
STOCK_CSS = "[class*=stock i],[id*=stock i],[class*=avail i],[id*=avail i],[class*=nalich i]"
# A discount badge written inside the price element ("$229.990 -18%").
_DISCOUNT_BADGE = re.compile(r"(?:^|\s)[-−–]\s?\d{1,2}\s?%(?=\s|$)")
_LONGEST_TEXT = 200
# How far (tree steps) a candidate may be from the nearest one and still compete.
_SLACK = 2
# How much further than the nearest current price an old (struck) price may stand.
_OLD_REACH = 3
# Price elements a page without a title or buy control may hold and still be read as
# one product's page.
_MANY_WITHOUT_TITLE = 40
_NOT_PRICE_TAGS = frozenset({"script", "style", "meta", "link", "input", "body", "html"})


def find_visible(region: PageRegion) -> Found | None:
    """The main product's visible price, an explained None, or None when the page shows
    no price-like element at all."""
    found = _nearest_first(region)
    current = [c for c in found if not c.old]
    if not current:
        found = text_prices(region)
        current = [c for c in found if not c.old]
    if not current:
        return Found(METHOD, reason="only a per-unit price found") if region.per_unit else None
    nearest = min(c.distance for c in current)
    top = sorted((c for c in current if c.distance <= nearest + _SLACK), key=lambda c: c.distance)
    values = distinct_prices([c.price for c in top])
    currency = next((c.currency for c in top if c.currency), None)
    if len(values) == 1:
        reach = nearest + _SLACK + _OLD_REACH
        olds = [c.price for c in found if c.old and c.price > values[0] and c.distance <= reach]
        old = distinct_prices(olds)
        return Found(
            METHOD,
            price=values[0],
            old_price=old[0] if len(old) == 1 else None,
            currency=currency,
        )
    shown = ", ".join(str(v) for v in values[:4])
    if not region.has_anchor:  # nothing tells the product's price from the others
        return Found(METHOD, reason=f"different prices on a page without a title ({shown})")
    return Found(
        METHOD,
        reason=f"{len(values)} different prices beside the product ({shown})",
        currency=currency,
        candidates=tuple(values),
    )


def find_stock_text(region: PageRegion) -> str:
    """Availability from visible stock badges (class/id naming stock) of the main
    product, not the buy control's state labels; unknown when they disagree or say
    nothing."""
    states: set[str] = set()
    labels = {n.mem_id for n in region.state_labels}
    for node in region.scope.css(STOCK_CSS):
        if not STOCK_CLASS.search(label(node)) or region.unrelated(node):
            continue
        if labels and any(n.mem_id in labels for n in lineage(node)):
            continue
        text = own_text(node, limit=80)
        if text and len(text) < 80:
            states.add(availability_from_text(text))
    states.discard(UNKNOWN)
    return states.pop() if len(states) == 1 else UNKNOWN


class _Element(NamedTuple):
    """A price element and its attributes (read once: reading them builds a dict)."""

    node: Node
    attrs: Attributes


def _innermost(region: PageRegion, most: int | None = None) -> list[_Element]:
    """Price elements with a number that hold no other such element (an old price inside
    does not count). Children follow their parents in document order, so walking the
    list backwards marks every container before its (costly) text would be read. With
    ``most``, the walk stops once more than that many are found (the caller only needs
    to know there are that many)."""
    elements = [
        _Element(n, attrs)
        for n in region.scope.css(MICRODATA_PRICE_CSS if region.microdata else PRICE_CSS)
        if n.tag not in _NOT_PRICE_TAGS and _is_price_element(attrs := n.attributes)
    ]
    keys = {e.node.mem_id for e in elements}
    outer: set[int] = set()
    inner: list[_Element] = []
    for element in reversed(elements):
        node, attrs = element
        if node.mem_id in outer:
            continue
        if _data_price(attrs) is None and not DIGIT.search(node.text(deep=True)):
            continue
        inner.append(element)
        if most is not None and len(inner) > most:
            break
        if node.tag in ("del", "s", "strike") or OLD_PRICE_CLASS.search(label(node, attrs)):
            continue  # an old price inside the current one's element does not hide it
        outer.update(p.mem_id for p in ancestors(node, 8) if p.mem_id in keys)
    return inner[::-1]


def _is_price_element(attrs: Attributes) -> bool:
    if _data_price(attrs) is not None or attrs.get("itemprop") == "price":
        return True
    words = f"{attrs.get('class') or ''} {attrs.get('id') or ''}".lower()
    return bool(PRICE_CLASS.search(words)) and not NOT_PRICE_CLASS.search(words)


def _nearest_first(region: PageRegion) -> list[Candidate]:
    """The price elements read in order of their distance to the title and buy control,
    up to the reach of the nearest current price: prices further away cannot compete,
    and a page's carousels of other products need not be read at all. A page without
    a title or buy control is read until two different current prices show, and not
    at all when it holds many price elements (a listing, not one product)."""
    most = None if region.has_anchor else _MANY_WITHOUT_TITLE
    elements = _innermost(region, most)
    if most is not None and len(elements) > most:
        return []
    placed = sorted(
        ((region.distance(e.node), i, e) for i, e in enumerate(elements)),
        key=lambda p: (p[0], p[1]),
    )
    out: list[Candidate] = []
    reach: int | None = None
    first: Decimal | None = None
    for distance, _i, element in placed:
        if reach is not None and distance > reach:
            break
        candidate = _read(element, region, distance)
        if candidate is None:
            continue
        out.append(candidate)
        if candidate.old:
            continue
        if reach is None:
            reach = distance + _SLACK + _OLD_REACH
        if not region.has_anchor:
            if first is not None and not same_price(first, candidate.price):
                break
            first = candidate.price
    return out


def _read(element: _Element, region: PageRegion, distance: int) -> Candidate | None:
    node, attrs = element
    if len(node.text(deep=True)) > _LONGEST_TEXT:
        return None  # a whole block, not a price (own_text below would walk all of it)
    old = is_old(node)
    text = _DISCOUNT_BADGE.sub("", own_text(node, keep_struck=old)).strip()
    attr = _data_price(attrs) or attrs.get("content")
    if text and not DIGIT.search(text):
        return None  # a button or label carrying a price attribute: the text is what shows
    if not text and attr is None:
        return None
    if len(text) > 60 or NOT_A_PRICE.search(text) or EX_VAT.search(text):
        return None
    if region.unrelated(node):
        return None
    if is_per_unit(text) or is_per_unit(label(node, attrs)):
        region.per_unit += 1
        return None
    currency = find_currency(text) or find_currency(_parent_text(node))
    price = parse_price(text) if currency else None
    if price is None and attr is not None:
        price = parse_price(attr)
    if price is None:
        return None
    return Candidate(price, currency, old, distance)


def _data_price(attrs: Attributes) -> str | None:
    return next((v for v in map(attrs.get, DATA_PRICE_ATTRS) if v), None)


def _parent_text(node: Node) -> str:
    parent = node.parent
    return own_text(parent, limit=60)[:60] if parent is not None else ""
