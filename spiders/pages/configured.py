"""Per-competitor selectors from config (``[competitors.selectors]``): CSS, or XPath
when the expression starts with ``/`` or ``(``. A site with selectors needs no code."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cssselect import GenericTranslator, SelectorError
from lxml.etree import XPath, XPathError  # type: ignore[import-untyped]

from repricer.config import SelectorSettings
from spiders.pages._phrases import IN_STOCK, OUT_OF_STOCK, UNKNOWN
from spiders.pages.found import Found, distinct_prices
from spiders.pages.tree import Element, is_element, text_of
from spiders.pages.values import (
    availability_from_text,
    clean_text,
    find_currency,
    parse_price,
    squash,
)

METHOD = "selectors"


def find_configured(root: Element, selectors: SelectorSettings) -> Found | None:
    """What the configured selectors find; None when the price selector is unset or
    matches nothing, ambiguous when it matches several different prices."""
    availability = _availability(root, selectors)
    if selectors.price and not is_valid(selectors.price):
        return Found(METHOD, reason=f"invalid price selector {selectors.price!r}")
    texts = select_texts(root, selectors.price)
    if not texts:
        return Found(METHOD, availability=availability) if availability != UNKNOWN else None
    prices = distinct_prices([p for p in (parse_price(t) for t in texts) if p is not None])
    if len(prices) != 1:
        why = (
            f"price selector matched {len(prices)} different prices"
            if prices
            else f"price selector text {texts[0]!r} is not a price"
        )
        return Found(METHOD, reason=why, availability=availability)
    olds = distinct_prices(
        [p for p in (parse_price(t) for t in select_texts(root, selectors.old_price)) if p]
    )
    currency_texts = select_texts(root, selectors.currency)
    return Found(
        METHOD,
        price=prices[0],
        old_price=olds[0] if len(olds) == 1 and olds[0] > prices[0] else None,
        currency=find_currency(currency_texts[0]) if currency_texts else find_currency(texts[0]),
        availability=availability,
        sku=clean_text(next(iter(select_texts(root, selectors.sku)), None), 100),
        title=clean_text(next(iter(select_texts(root, selectors.title)), None)),
    )


def select_texts(root: Element, expression: str | None) -> list[str]:
    """Texts (or ``content`` attributes) of the elements an expression matches; a bad
    expression matches nothing (config validation reports it)."""
    if not expression:
        return []
    try:
        matches = root.xpath(to_xpath(expression))
    except (XPathError, SelectorError):
        return []
    return [t for t in (_text(m) for m in matches) if t]


def is_valid(expression: str) -> bool:
    """The expression compiles (CSS translated, XPath parsed)."""
    try:
        XPath(to_xpath(expression))
    except (XPathError, SelectorError):
        return False
    return True


@lru_cache(maxsize=256)
def to_xpath(expression: str) -> str:
    """CSS -> XPath (cached); XPath passes through."""
    expression = expression.strip()
    if expression.startswith(("/", "(")):
        return expression
    return str(GenericTranslator().css_to_xpath(expression))


def _text(match: Any) -> str:
    if isinstance(match, str):
        return squash(match)
    if not is_element(match):
        return ""
    if match.get("content") is not None:
        return squash(match.get("content"))
    parts = [match.text or ""]
    for child in match:
        if child.tag not in ("del", "s", "strike"):
            parts.append(text_of(child))
        parts.append(child.tail or "")
    return squash("".join(parts))


def _availability(root: Element, selectors: SelectorSettings) -> str:
    texts = select_texts(root, selectors.availability)
    if not texts:
        return UNKNOWN
    text = " ".join(texts).lower()
    if any(p.lower() in text for p in selectors.out_of_stock):
        return OUT_OF_STOCK
    if any(p.lower() in text for p in selectors.in_stock):
        return IN_STOCK
    return availability_from_text(text)
