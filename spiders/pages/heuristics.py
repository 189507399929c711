"""Conservative visible-text heuristics, used only when no structured source and no
selector found a price.

A candidate is an innermost element whose class/id names a price (``price``,
``cost`` …), or one carrying a ``data-price`` attribute, outside page furniture and
related-product blocks, whose text holds one number and a currency. Exactly one
distinct value wins; several, or only a per-unit price, give ``price=None`` with a
reason.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cached_property

from lxml.etree import XPath  # type: ignore[import-untyped]

from spiders.pages._phrases import (
    NOT_PRICE_CLASS,
    OLD_PRICE_CLASS,
    PRICE_CLASS,
    STOCK_CLASS,
    UNKNOWN,
    UNRELATED_CONTAINER,
    UNRELATED_TAGS,
)
from spiders.pages.found import Found, distinct_prices
from spiders.pages.tree import Element, text_of
from spiders.pages.values import (
    availability_from_text,
    find_currency,
    is_per_unit,
    parse_price,
    squash,
)

METHOD = "heuristic"
# One pass over the class/id attributes finds both price and stock candidates: an
# attribute-axis XPath is several times cheaper than contains() tests on every element.
DATA_PRICE_ATTRS = ("data-price", "data-product-price", "data-price-amount")
_LABELS = XPath("//@class|//@id|" + "|".join(f"//@{a}" for a in DATA_PRICE_ATTRS))
_CLASS_ID = XPath("//@class|//@id", smart_strings=False)
_DIGIT = re.compile(r"\d")
_SKIPPED_TAGS = frozenset({"del", "s", "strike", "script", "style", "template"})
_ANY_LABEL = re.compile(r"rice|cost|tock|vail|nalich|presence", re.I)


class PageLabels:
    """Elements whose class/id may name a price or a stock state, found once per page."""

    def __init__(self, root: Element) -> None:
        self.root = root
        self._memo: dict[Element, bool] = {}

    @cached_property
    def words(self) -> str:
        """All class and id values of the page, lower-case: a page whose words lack a
        marker has no element the heuristics would pick for it."""
        return " ".join(_CLASS_ID(self.root)).lower()

    def has_struck(self) -> bool:
        """The page has a struck-through element (``<del>``, ``<s>``, ``<strike>``)."""
        return next(self.root.iter("del", "s", "strike"), None) is not None

    @cached_property
    def _labelled(self) -> list[Element]:
        seen: dict[Element, None] = {}
        for attr in _LABELS(self.root):
            if attr.attrname.startswith("data-") or _ANY_LABEL.search(attr):
                seen.setdefault(attr.getparent(), None)
        return list(seen)

    @cached_property
    def prices(self) -> list[Element]:
        elements = [
            e for e in self._labelled
            if (PRICE_CLASS.search(_label(e)) or _data_price(e) is not None)
            and not NOT_PRICE_CLASS.search(_label(e)) and not _unrelated(e, self._memo)
            and (_data_price(e) is not None or _DIGIT.search(text_of(e)))
        ]  # fmt: skip
        # Innermost among the elements that hold a number: a currency-sign span inside
        # the amount does not hide the amount.
        chosen = set(elements)
        outer = {a for e in elements for a in e.iterancestors() if a in chosen}
        return [e for e in elements if e not in outer]

    @cached_property
    def stock(self) -> list[Element]:
        return [
            e
            for e in self._labelled
            if STOCK_CLASS.search(_label(e)) and not _unrelated(e, self._memo)
        ]


def find_heuristic(labels: PageLabels) -> Found | None:
    """A price seen in exactly one way in the main product area, or an explained None."""
    current: list[Decimal] = []
    old: list[Decimal] = []
    per_unit = 0
    currency: str | None = None
    for element in labels.prices:
        is_old = _is_old(element)
        text = squash(text_of(element)) if is_old else _own_text(element)
        attr = _data_price(element)
        if not text and attr is None:
            continue
        if is_per_unit(text) or is_per_unit(_label(element)):
            per_unit += 1
            continue
        found_currency = find_currency(text) or find_currency(_parent_text(element))
        price = parse_price(text) if found_currency else None
        if price is None and attr is not None:
            price = parse_price(attr)
        if price is None:
            continue
        currency = currency or found_currency
        (old if is_old else current).append(price)
    if not current and not old and not per_unit:
        return find_labelled_price(labels)
    return _decide(distinct_prices(current), distinct_prices(old), per_unit, currency)


def find_stock_text(labels: PageLabels) -> str:
    """Availability from stock badges (class/id naming stock) outside unrelated blocks."""
    texts = (_own_text(e) for e in labels.stock)
    states = {availability_from_text(t) for t in texts if len(t) < 80}
    states.discard(UNKNOWN)
    return states.pop() if len(states) == 1 else UNKNOWN


_PRICE_LABEL_TEXT = XPath(
    "//text()[contains(., 'Цена') or contains(., 'цена') or contains(., 'Price') "
    "or contains(., 'price') or contains(., 'Стоимость')]"
)
_AMOUNT_FIRST = re.compile(r"^(?:от\s+|from\s+)?[\d$€£₽¥₴₸]", re.I)
_PRICE_LABEL = re.compile(
    r"^(?:цена|price|стоимость|our price|ваша цена|sale price)\s*[:：]?\s*", re.I
)


def find_labelled_price(labels: PageLabels) -> Found | None:
    """ "Цена: 2 490 ₽" / "Price: $12.50" in one element, or the label followed by an
    element with the amount; used only when no price-like element exists at all."""
    values: list[Decimal] = []
    currency = None
    for text_node in _PRICE_LABEL_TEXT(labels.root):
        element = text_node.getparent()
        if element is None or _unrelated(element, labels._memo):
            continue
        text = squash(_own_text(element))
        if not _PRICE_LABEL.match(text):
            continue
        rest = _PRICE_LABEL.sub("", text, count=1)
        if not rest and element.getnext() is not None:
            rest = squash(_own_text(element.getnext()))
        found_currency = find_currency(rest)
        plain = found_currency and len(rest) < 40 and _AMOUNT_FIRST.match(rest)
        price = parse_price(rest) if plain else None
        if price is not None:
            values.append(price)
            currency = currency or found_currency
    return _decide(distinct_prices(values), [], 0, currency)


def _decide(
    current: list[Decimal], old: list[Decimal], per_unit: int, currency: str | None
) -> Found | None:
    if len(current) == 1:
        price = current[0]
        old_price = old[0] if len(old) == 1 and old[0] > price else None
        return Found(METHOD, price=price, old_price=old_price, currency=currency)
    if len(current) > 1:
        shown = ", ".join(str(p) for p in current[:4])
        return Found(METHOD, reason=f"{len(current)} different prices on the page ({shown})")
    if per_unit:
        return Found(METHOD, reason="only a per-unit price found")
    return None


def _label(element: Element) -> str:
    return f"{element.get('class') or ''} {element.get('id') or ''}"


def _is_old(element: Element) -> bool:
    """Struck through, or marked old by its own class or one of its 3 nearest parents."""
    for depth, node in enumerate((element, *element.iterancestors())):
        if depth > 3 or node.tag in ("body", "main", "article"):
            break
        if node.tag in ("del", "s", "strike") or OLD_PRICE_CLASS.search(_label(node)):
            return True
    return False


def _unrelated(element: Element, memo: dict[Element, bool]) -> bool:
    """Inside page furniture or another product's block (answers cached per page)."""
    path: list[Element] = []
    verdict = False
    for node in (element, *element.iterancestors()):
        if node in memo:
            verdict = memo[node]
            break
        path.append(node)
        if node.tag in ("body", "html"):
            break
        if node.tag in UNRELATED_TAGS or UNRELATED_CONTAINER.search(_label(node)):
            verdict = True
            break
    for node in path:
        memo[node] = verdict
    return verdict


def _own_text(element: Element) -> str:
    """Visible text without struck-through parts (<del>, <s>) and scripts; kopecks or
    cents in a 2-digit ``<sup>`` after the amount become its decimals (``2 490<sup>90``
    reads 2 490,90, not 249 090)."""
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str) and child.tag not in _SKIPPED_TAGS:
            inner = _own_text(child)
            before = "".join(parts).rstrip()
            if child.tag == "sup" and re.fullmatch(r"\d\d", inner) and before[-1:].isdigit():
                inner = ("." if "," in before.rsplit(" ", 1)[-1] else ",") + inner
            parts.append(inner)
        parts.append(child.tail or "")
    return squash("".join(parts))


def _data_price(element: Element) -> str | None:
    return next((v for v in map(element.get, DATA_PRICE_ATTRS) if v), None)


def _parent_text(element: Element) -> str:
    parent = element.getparent()
    return _own_text(parent)[:60] if parent is not None else ""
