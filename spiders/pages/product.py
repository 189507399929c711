"""``extract_product``: the page's price, old price, currency, availability, sku, gtin
and title, from saved HTML, with no Scrapy and no network.

Chain: JSON-LD -> microdata -> RDFa -> OpenGraph/product meta -> configured selectors;
visible-text heuristics only when none of them saw a price. Every source that finds a
price must agree (within 1 %, same currency), else the price is ``None`` with a
reason. A wrong price is worse than none.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from repricer.config import SelectorSettings
from spiders.pages._phrases import UNKNOWN
from spiders.pages.configured import find_configured
from spiders.pages.found import Found, same_price
from spiders.pages.heuristics import PageLabels, find_heuristic, find_stock_text
from spiders.pages.jsonld import find_jsonld
from spiders.pages.meta import find_opengraph, first_heading, page_title, read_meta
from spiders.pages.microdata import find_microdata, find_rdfa
from spiders.pages.tree import page_text, parse_page

# Class/id words that can mark an old price (OLD_PRICE_CLASS) or a stock badge
# (STOCK_CLASS): a page whose class/id values hold none of them has no such element, so
# the text heuristics are not searched for one.
_OLD_HINTS = (
    "old", "was", "before", "regular", "compare", "strike", "cross", "original", "prev",
    "rrp", "msrp", "list", "base", "full", "through",
)  # fmt: skip
_STOCK_HINTS = ("tock", "vail", "nalich", "nali4", "presence")


def _has_any(words: str, needles: tuple[str, ...]) -> bool:
    return any(needle in words for needle in needles)


@dataclass(frozen=True)
class ExtractedProduct:
    """What a product page says.

    ``price`` / ``old_price``: ``Decimal`` in major units of ``currency`` (``1299.90``),
    VAT as displayed; ``None`` when the page has no trustworthy price (``reason`` says
    why). ``currency``: ISO 4217 code or ``None`` when the page does not say.
    ``availability``: ``in_stock`` | ``out_of_stock`` | ``unknown``. ``method``: the
    source that gave the price (``json-ld``, ``microdata``, ``rdfa``, ``opengraph``,
    ``selectors``, ``heuristic``). ``is_product``: the page carries product data at all
    (False for a home page, a category, an error page).
    """

    price: Decimal | None = None
    old_price: Decimal | None = None
    currency: str | None = None
    availability: str = UNKNOWN
    sku: str | None = None
    gtin: str | None = None
    title: str | None = None
    method: str | None = None
    reason: str | None = None
    is_product: bool = False


def extract_product(
    html: str | bytes, url: str, selectors: SelectorSettings | None = None
) -> ExtractedProduct:
    """Extract the product of one page; never raises on messy HTML."""
    root, data = parse_page(page_text(html))
    if root is None:
        return ExtractedProduct(reason="empty or unreadable page")
    # Plain substring tests skip whole-tree searches for markup the page cannot have
    # (bytes: ASCII case folding is all the ASCII markers need, and far cheaper).
    lower = data.lower()
    meta = read_meta(root)
    labels = PageLabels(root)
    heading = first_heading(root)
    found = [
        f for f in (
            find_jsonld(root, url, heading) if b"ld+json" in lower else None,
            find_microdata(root, url, heading) if b"itemprop" in lower else None,
            find_rdfa(root, url, heading) if b"typeof" in lower else None,
            find_opengraph(meta),
            find_configured(root, selectors) if selectors else None,
        ) if f is not None
    ]  # fmt: skip
    if not any(f.price is not None or f.ambiguous for f in found):
        heuristic = find_heuristic(labels)
        found += [heuristic] if heuristic is not None else []
    price, reason = _agreed_price(found)
    if price is None and reason == "no price found" and selectors and selectors.price:
        reason = f"price selector {selectors.price!r} matched nothing"
    availability = next((f.availability for f in found if f.availability != UNKNOWN), UNKNOWN)
    return ExtractedProduct(
        price=price.price if price else None,
        old_price=_old_price(labels, price, found) if price else None,
        currency=price.currency if price else None,
        availability=availability
        if availability != UNKNOWN or not _has_any(labels.words, _STOCK_HINTS)
        else find_stock_text(labels),
        sku=next((f.sku for f in found if f.sku), None),
        gtin=next((f.gtin for f in found if f.gtin), None),
        title=next((f.title for f in found if f.title), None) or page_title(root, meta),
        method=price.method if price else None,
        reason=reason,
        is_product=bool(found),
    )


def _agreed_price(found: list[Found]) -> tuple[Found | None, str | None]:
    """The first source (in chain order) that is sure decides; later sources with a
    price must agree with it. A source that saw product data but could not tell the
    price stops the chain when nothing before it was sure (configured selectors are
    the user's word and override that)."""
    configured = any(f.method == "selectors" and f.price is not None for f in found)
    first: Found | None = None
    for f in found:
        if f.price is None:
            if f.ambiguous and first is None and not configured:
                return None, f"{f.method}: {f.reason}"
            continue
        if first is None:
            first = f
        elif first.price is not None and not same_price(first.price, f.price):
            return None, f"sources disagree: {first.method} {first.price}, {f.method} {f.price}"
    if first is None:
        return None, "no price found"
    currencies = {f.currency for f in found if f.price is not None and f.currency}
    if len(currencies) > 1:
        return None, f"sources disagree on the currency: {', '.join(sorted(currencies))}"
    return Found(first.method, price=first.price, currency=next(iter(currencies), None)), None


def _old_price(labels: PageLabels, price: Found, found: list[Found]) -> Decimal | None:
    """An old price above the price: from the sources, else a struck-through/old-price
    element beside the same current price."""
    assert price.price is not None
    for f in found:
        if f.old_price is not None and f.price is not None and f.old_price > price.price:
            return f.old_price
    if price.method == "heuristic":
        return None
    if not labels.has_struck() and not _has_any(labels.words, _OLD_HINTS):
        return None
    seen = find_heuristic(labels)
    if seen and seen.price is not None and seen.old_price and same_price(seen.price, price.price):
        return seen.old_price
    return None
