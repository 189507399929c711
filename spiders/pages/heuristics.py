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
from dataclasses import dataclass
from decimal import Decimal

from spiders.pages._phrases import (
    EX_VAT,
    NOT_PRICE_CLASS,
    OLD_PRICE_CLASS,
    PRICE_CLASS,
    STOCK_CLASS,
    UNKNOWN,
)
from spiders.pages.found import Found, distinct_prices
from spiders.pages.region import PageRegion
from spiders.pages.tree import Node, ancestors, label, lineage, squash
from spiders.pages.values import availability_from_text, find_currency, is_per_unit, parse_price

METHOD = "heuristic"
DATA_PRICE_ATTRS = ("data-price", "data-product-price", "data-price-amount")
PRICE_CSS = ",".join(
    ["[class*=price i],[id*=price i]"]
    + [f"[class*={w} i]" for w in ("cost", "preis", "prix", "prezzo", "precio", "cena")]
    + ["[itemprop=price]"] + [f"[{a}]" for a in DATA_PRICE_ATTRS]
)  # fmt: skip
STOCK_CSS = "[class*=stock i],[id*=stock i],[class*=avail i],[id*=avail i],[class*=nalich i]"
_DIGIT = re.compile(r"\d")
_SKIPPED_TAGS = frozenset({"del", "s", "strike", "script", "style", "template", "noscript"})
# A discount badge written inside the price element ("$229.990 -18%").
_DISCOUNT_BADGE = re.compile(r"(?:^|\s)[-−–]\s?\d{1,2}\s?%(?=\s|$)")
_NOT_A_PRICE = re.compile(r"%|\d\s*[x×]\s*\d")
# A currency sign or word somewhere in a text (a cheap test before parsing it).
CURRENCY_HINT = re.compile(
    r"[$€£₽₴₸¥₹₩₺元円원]|(?<![^\W\d_])(?:руб|р\.|грн|тг|kn|zł|zl|kč|lei|лв|ft|kr|rs|chf|eur|usd"
    r"|gbp|pln|czk|ron|bgn|huf|sek|nok|dkk|kzt|uah|rub|byn|br|nt)(?![^\W\d_])",
    re.I,
)
PRICE_LABEL = re.compile(
    r"^(?:цена|ціна|баға|стоимость|price|our price|sale price|now|preis|prix|prezzo|precio|preço"
    r"|cena|cijena|kaina|hind|ár|pris|hinta|prijs|preț|pret|價格|售價|特價|価格|販売価格)\s*[:：]?\s*",
    re.I,
)
AMOUNT_FIRST = re.compile(
    r"^(?:(?:от|від|from|ab|dès|à partir de|desde|a partir de|da|od|alkaen|vanaf|från|fra|nuo"
    r"|alates|de la)\s+)?(?:[$€£₽₴₸¥₹₩₺]|[A-Za-z]{1,3}\$|\d)",
    re.I,
)
_LONGEST_TEXT = 200
# How far (tree steps) a candidate may be from the nearest one and still compete.
_SLACK = 2


@dataclass(frozen=True)
class Candidate:
    price: Decimal
    currency: str | None
    old: bool
    distance: int


def find_visible(region: PageRegion) -> Found | None:
    """The main product's visible price, an explained None, or None when the page shows
    no price-like element at all."""
    found = [c for c in (_read(n, region) for n in _innermost(region)) if c is not None]
    current = [c for c in found if not c.old]
    if not current:
        found = _text_prices(region)
        current = [c for c in found if not c.old]
    if not current:
        return Found(METHOD, reason="only a per-unit price found") if region.per_unit else None
    nearest = min(c.distance for c in current)
    top = sorted((c for c in current if c.distance <= nearest + _SLACK), key=lambda c: c.distance)
    values = distinct_prices([c.price for c in top])
    currency = next((c.currency for c in top if c.currency), None)
    if len(values) == 1:
        olds = [c.price for c in found if c.old and c.price > values[0]]
        old = distinct_prices(olds)
        return Found(
            METHOD,
            price=values[0],
            old_price=old[0] if len(old) == 1 else None,
            currency=currency,
        )
    shown = ", ".join(str(v) for v in values[:4])
    return Found(
        METHOD,
        reason=f"{len(values)} different prices beside the product ({shown})",
        currency=currency,
        candidates=tuple(values),
    )


def _text_prices(region: PageRegion) -> list[Candidate]:
    """Prices written as plain text (no price class): a short text that is an amount with
    a currency, alone or after a price label (``Цена: 18 990 руб.``, ``Preis: 12,50 €``)
    or right after a label element (``<b>Цена:</b> <font>18 990 руб.</font>``)."""
    block = region.main_block
    if block is None:
        return []
    out: list[Candidate] = []
    for node in block.traverse(include_text=True):
        if node.tag != "-text":
            continue
        raw = node.text_content or ""
        if len(raw) > 80 or not _DIGIT.search(raw) or not CURRENCY_HINT.search(raw):
            continue
        text = PRICE_LABEL.sub("", squash(raw), count=1)
        if len(text) > 40 or not AMOUNT_FIRST.match(text) or _NOT_A_PRICE.search(text):
            continue
        if EX_VAT.search(text):
            continue
        element = node.parent
        if element is None or element.tag in _SKIPPED_TAGS or element.tag in ("a", "option"):
            continue
        if is_per_unit(text) or region.unrelated(element):
            continue
        currency = find_currency(text)
        price = parse_price(text) if currency else None
        if price is not None:
            out.append(Candidate(price, currency, _is_old(element), region.distance(element)))
    return out


def find_stock_text(region: PageRegion) -> str:
    """Availability from visible stock badges (class/id naming stock) of the main
    product and from its buy control; unknown when they disagree or say nothing."""
    states: set[str] = set()
    for node in region.scope.css(STOCK_CSS):
        if not STOCK_CLASS.search(label(node)) or region.unrelated(node):
            continue
        text = own_text(node)
        if text and len(text) < 80:
            states.add(availability_from_text(text))
    states.discard(UNKNOWN)
    return states.pop() if len(states) == 1 else UNKNOWN


def _innermost(region: PageRegion) -> list[Node]:
    """Price elements with a number that hold no other such element (an old price inside
    does not count). Children follow their parents in document order, so walking the
    list backwards marks every container before its (costly) text would be read."""
    nodes = [n for n in region.scope.css(PRICE_CSS) if _is_price_node(n)]
    keys = {n.mem_id for n in nodes}
    outer: set[int] = set()
    inner: list[Node] = []
    for node in reversed(nodes):
        if node.mem_id in outer:
            continue
        if _data_price(node) is None and not _DIGIT.search(node.text(deep=True)):
            continue
        inner.append(node)
        if node.tag in ("del", "s", "strike") or OLD_PRICE_CLASS.search(label(node)):
            continue  # an old price inside the current one's element does not hide it
        outer.update(p.mem_id for p in ancestors(node, 8) if p.mem_id in keys)
    return inner[::-1]


def _is_price_node(node: Node) -> bool:
    if node.tag in ("script", "style", "meta", "link", "input", "body", "html"):
        return False
    words = label(node)
    if _data_price(node) is not None or node.attributes.get("itemprop") == "price":
        return True
    return bool(PRICE_CLASS.search(words)) and not NOT_PRICE_CLASS.search(words)


def _read(node: Node, region: PageRegion) -> Candidate | None:
    if len(node.text(deep=True)) > _LONGEST_TEXT:
        return None  # a whole block, not a price (own_text below would walk all of it)
    old = _is_old(node)
    text = _DISCOUNT_BADGE.sub("", own_text(node, keep_struck=old)).strip()
    attr = _data_price(node) or node.attributes.get("content")
    if text and not _DIGIT.search(text):
        return None  # a button or label carrying a price attribute: the text is what shows
    if not text and attr is None:
        return None
    if len(text) > 60 or _NOT_A_PRICE.search(text) or EX_VAT.search(text):
        return None
    if region.unrelated(node):
        return None
    if is_per_unit(text) or is_per_unit(label(node)):
        region.per_unit += 1
        return None
    currency = find_currency(text) or find_currency(_parent_text(node))
    price = parse_price(text) if currency else None
    if price is None and attr is not None:
        price = parse_price(attr)
    if price is None:
        return None
    return Candidate(price, currency, old, region.distance(node))


def _is_old(node: Node) -> bool:
    """Struck through, or marked old by its own class or one of its 3 nearest parents."""
    for depth, current in enumerate(lineage(node)):
        if depth > 3 or current.tag in ("body", "main", "article"):
            break
        if current.tag in ("del", "s", "strike") or OLD_PRICE_CLASS.search(label(current)):
            return True
        if "line-through" in (current.attributes.get("style") or ""):
            return True
    return False


def own_text(node: Node, keep_struck: bool = False) -> str:
    """Visible text without struck-through parts and scripts; kopecks or cents in a
    2-digit ``<sup>`` after the amount become its decimals (``2 490<sup>90`` reads
    2 490,90, not 249 090)."""
    parts: list[str] = []
    for child in node.iter(include_text=True):
        tag = child.tag
        if tag == "-text":
            parts.append(child.text_content or "")
        elif _skipped(child, keep_struck):
            continue
        elif tag == "sup":
            inner = own_text(child)
            before = "".join(parts).rstrip()
            if re.fullmatch(r"\d\d", inner) and before[-1:].isdigit():
                inner = ("." if "," in before.rsplit(" ", 1)[-1] else ",") + inner
            parts.append(inner)
        elif tag and not tag.startswith("-"):
            parts.append(own_text(child, keep_struck))
    return squash("".join(parts))


def _skipped(node: Node, keep_struck: bool) -> bool:
    """Scripts, and old prices (struck or old-marked) unless they are wanted."""
    if node.tag in _SKIPPED_TAGS:
        return not (keep_struck and node.tag in ("del", "s", "strike"))
    return not keep_struck and bool(OLD_PRICE_CLASS.search(node.attributes.get("class") or ""))


def _data_price(node: Node) -> str | None:
    attrs = node.attributes
    return next((v for v in map(attrs.get, DATA_PRICE_ATTRS) if v), None)


def _parent_text(node: Node) -> str:
    parent = node.parent
    return own_text(parent)[:60] if parent is not None else ""
