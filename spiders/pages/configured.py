"""Per-competitor selectors from config (``[competitors.selectors]``): CSS, or XPath
when the expression starts with ``/`` or ``(``. A site with selectors needs no code.

CSS runs on the page's one lexbor parse; XPath needs libxml2, so a page whose selectors
use XPath is parsed a second time with lxml (once, and only then)."""

from __future__ import annotations

from functools import cached_property, lru_cache
from typing import Any

from cssselect import GenericTranslator, SelectorError
from lxml import etree  # type: ignore[import-untyped]
from lxml.etree import XPath, XPathError  # type: ignore[import-untyped]
from selectolax.lexbor import SelectolaxError

from repricer.config import SelectorSettings
from spiders.pages._phrases import IN_STOCK, OUT_OF_STOCK, UNKNOWN
from spiders.pages.found import Found, distinct_prices
from spiders.pages.tree import Document, squash
from spiders.pages.values import availability_from_text, clean_text, find_currency, parse_price

METHOD = "selectors"
_LXML_PARSER = etree.HTMLParser(
    remove_comments=True, remove_pis=True, recover=True, encoding="utf-8"
)
_STRUCK = frozenset({"del", "s", "strike"})


class PageSelection:
    """Texts matched by configured expressions on one page."""

    def __init__(self, doc: Document, source: str | bytes) -> None:
        self.doc = doc
        self.source = source  # decoded text, or UTF-8 bytes

    @cached_property
    def _lxml_root(self) -> Any:
        source = self.source
        data = source if isinstance(source, bytes) else source.encode("utf-8", "replace")
        try:
            return etree.fromstring(data, _LXML_PARSER)
        except (etree.ParserError, etree.XMLSyntaxError, ValueError):
            return None

    def texts(self, expression: str | None) -> list[str]:
        """Texts (or ``content`` attributes) of the elements an expression matches; a bad
        expression matches nothing (config validation reports it)."""
        if not expression:
            return []
        expression = expression.strip()
        if is_xpath(expression):
            root = self._lxml_root
            try:
                matches = root.xpath(expression) if root is not None else []
            except XPathError:
                return []
            return [t for t in map(_lxml_text, matches) if t]
        try:
            nodes = self.doc.css(expression)
        except (SelectolaxError, ValueError):
            return []
        return [t for t in map(_node_text, nodes) if t]


def find_configured(selection: PageSelection, selectors: SelectorSettings) -> Found | None:
    """What the configured selectors find; None when the price selector is unset or
    matches nothing, ambiguous when it matches several different prices."""
    availability = _availability(selection, selectors)
    if selectors.price and not is_valid(selectors.price):
        return Found(METHOD, reason=f"invalid price selector {selectors.price!r}")
    texts = selection.texts(selectors.price)
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
        [p for p in (parse_price(t) for t in selection.texts(selectors.old_price)) if p]
    )
    currency_texts = selection.texts(selectors.currency)
    return Found(
        METHOD,
        price=prices[0],
        old_price=olds[0] if len(olds) == 1 and olds[0] > prices[0] else None,
        currency=find_currency(currency_texts[0]) if currency_texts else find_currency(texts[0]),
        availability=availability,
        sku=clean_text(next(iter(selection.texts(selectors.sku)), None), 100),
        title=clean_text(next(iter(selection.texts(selectors.title)), None)),
    )


def is_xpath(expression: str) -> bool:
    return expression.strip().startswith(("/", "("))


def is_valid(expression: str) -> bool:
    """The expression compiles (XPath parsed, CSS translated)."""
    try:
        XPath(to_xpath(expression))
    except (XPathError, SelectorError):
        return False
    return True


@lru_cache(maxsize=256)
def to_xpath(expression: str) -> str:
    """CSS -> XPath (cached, for validation); XPath passes through."""
    expression = expression.strip()
    if is_xpath(expression):
        return expression
    return str(GenericTranslator().css_to_xpath(expression))


def _node_text(node: Any) -> str:
    content = node.attributes.get("content")
    if content is not None:
        return squash(content)
    parts: list[str] = []
    for child in node.iter(include_text=True):
        if child.tag == "-text":
            parts.append(child.text_content or "")
        elif child.tag not in _STRUCK:
            parts.append(child.text(deep=True, separator=""))
    return squash("".join(parts))


def _lxml_text(match: Any) -> str:
    if isinstance(match, str):
        return squash(match)
    if not isinstance(match, etree._Element) or not isinstance(match.tag, str):
        return ""
    if match.get("content") is not None:
        return squash(match.get("content"))
    parts = [match.text or ""]
    for child in match:
        if child.tag not in _STRUCK:
            parts.append(etree.tostring(child, method="text", encoding="unicode", with_tail=False))
        parts.append(child.tail or "")
    return squash("".join(parts))


def _availability(selection: PageSelection, selectors: SelectorSettings) -> str:
    texts = selection.texts(selectors.availability)
    if not texts:
        return UNKNOWN
    text = " ".join(texts).lower()
    if any(p.lower() in text for p in selectors.out_of_stock):
        return OUT_OF_STOCK
    if any(p.lower() in text for p in selectors.in_stock):
        return IN_STOCK
    return availability_from_text(text)
