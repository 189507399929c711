"""``extract_product``: the page's price, old price, currency, availability, sku, gtin
and title, from saved HTML, with no Scrapy and no network.

Sources: JSON-LD -> microdata -> RDFa -> OpenGraph/product meta -> configured selectors,
and the visible price beside the product's title and buy button (:mod:`heuristics`).
The structured sources decide when they agree; when they hesitate (offers per size at
different prices, two products, sources that disagree) the visible main price settles
it if it is one of their values; when they say nothing the visible price stands alone.
Anything else is refused with a reason: a wrong price is worse than none.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from repricer.config import SelectorSettings
from spiders.pages._phrases import IN_STOCK, UNKNOWN
from spiders.pages.configured import PageSelection, find_configured
from spiders.pages.currency import settle_currency
from spiders.pages.found import Found, distinct_prices, same_price
from spiders.pages.heuristics import find_stock_text, find_visible
from spiders.pages.jsonld import find_jsonld
from spiders.pages.meta import find_opengraph, page_title, read_meta
from spiders.pages.microdata import find_microdata, find_rdfa
from spiders.pages.region import PageRegion
from spiders.pages.stock import find_visible_stock
from spiders.pages.survey import survey_page
from spiders.pages.tree import contains, read_page


@dataclass(frozen=True)
class ExtractedProduct:
    """What a product page says.

    ``price`` / ``old_price``: ``Decimal`` in major units of ``currency`` (``1299.90``),
    VAT as displayed; ``None`` when the page has no trustworthy price. ``currency``: ISO
    4217 code or ``None`` when the page does not say. ``availability``: ``in_stock`` |
    ``out_of_stock`` | ``unknown``. ``method``: the source that gave the price
    (``json-ld``, ``microdata``, ``rdfa``, ``opengraph``, ``selectors``, ``heuristic``).
    ``reason``: why there is no price, or how it was chosen when the sources hesitated.
    ``is_product``: the page carries product data at all (False for a home page, a
    category, an error page).
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
    brand: str | None = None


_BIG_SOURCE = 1_000_000  # characters of page source


def extract_product(
    html: str | bytes, url: str, selectors: SelectorSettings | None = None
) -> ExtractedProduct:
    """Extract the product of one page; never raises on messy HTML."""
    doc, source = read_page(html)
    if doc is None:
        return ExtractedProduct(reason="empty or unreadable page")
    # JSON-LD is on most pages; microdata is rarer: the source is searched for its
    # attribute first, except on a page over a megabyte (mostly inline scripts), where
    # a test more in the one walk of the tree costs less than a scan of the source.
    # RDFa is rarer still and seldom beside them: read only when they give no price.
    big = len(source) > _BIG_SOURCE
    survey = survey_page(doc, microdata=big or contains(source, "itemprop"), rdfa=big)
    region = PageRegion(doc, url, survey)
    meta = read_meta(doc)
    scripts = [n.text() for n in survey.scripts]
    items = survey.props
    region.microdata = bool(items)
    rich = [
        f for f in (
            find_jsonld(scripts, url, region.heading_text) if scripts else None,
            find_microdata(region, url, region.heading_text, items, survey.item_types)
            if items else None,
        ) if f is not None
    ]  # fmt: skip
    if not any(f.price is not None for f in rich) and (
        survey.typed if survey.typed is not None else contains(source, " typeof=")
    ):
        rich += [f for f in (find_rdfa(region, url, region.heading_text),) if f is not None]
    found = rich + [
        f for f in (
            find_opengraph(meta),
            find_configured(PageSelection(doc, source), selectors) if selectors else None,
        ) if f is not None
    ]  # fmt: skip
    visible = _Visible(region)
    price, reason = resolve_price(found, visible)
    if price is None and reason == "no price found" and selectors and selectors.price:
        reason = f"price selector {selectors.price!r} matched nothing"
    return ExtractedProduct(
        price=price.price if price else None,
        old_price=_old_price(price, found, visible) if price else None,
        currency=settle_currency(price, found, visible.get, url, doc, meta) if price else None,
        availability=_availability(found, price, region),
        sku=next((f.sku for f in found if f.sku), None),
        gtin=next((f.gtin for f in found if f.gtin), None),
        title=next((f.title for f in found if f.title), None)
        or page_title(doc, meta, next(iter(survey.headings), None)),
        method=price.method if price else None,
        reason=reason,
        is_product=bool(found) or (price is not None),
        brand=next((f.brand for f in found if f.brand), None),
    )


class _Visible:
    """The visible main price, read only when a decision needs it."""

    def __init__(self, region: PageRegion) -> None:
        self.region = region
        self._done = False
        self._found: Found | None = None

    def get(self) -> Found | None:
        if not self._done:
            self._found, self._done = find_visible(self.region), True
        return self._found

    @property
    def done(self) -> bool:
        return self._done

    def has_struck(self) -> bool:
        """The title's block strikes a price through (``<del>``, ``<s>``, ``<strike>``):
        only then is an old price beside the structured one worth reading."""
        return self.region.title_block_struck()

    def values(self) -> list[Decimal]:
        """The visible price, else the values nearest the title it hesitated between."""
        seen = self.get()
        if seen is None:
            return []
        return [seen.price] if seen.price is not None else list(seen.candidates)


def resolve_price(found: list[Found], visible: _Visible) -> tuple[Found | None, str | None]:
    """(the chosen source's reading, None) or (None, why not); see the module doc."""
    configured = next((f for f in found if f.method == "selectors" and f.price is not None), None)
    sure = [f for f in found if f.price is not None]
    hesitant = [f for f in found if f.ambiguous and f.method != "selectors"]
    if configured is not None:
        clash = next((f for f in sure if not same_price(f.price, configured.price)), None)  # type: ignore[arg-type]
        if clash is None:
            return configured, None
        return (
            None,
            f"sources disagree: {configured.method} {configured.price}, {clash.method} {clash.price}",
        )
    values = distinct_prices([f.price for f in sure if f.price is not None])
    if len(values) == 1:
        doubts = [f for f in hesitant if f.candidates and not _among(values[0], f.candidates)]
        if not doubts:
            return sure[0], None
        return _by_visible(sure + doubts, visible, f"{doubts[0].method}: {doubts[0].reason}")
    if len(values) > 1:
        shown = ", ".join(f"{f.method} {f.price}" for f in sure)
        return _by_visible(sure, visible, f"sources disagree: {shown}")
    refused = next((f for f in found if f.method == "selectors" and f.ambiguous), None)
    if refused is not None:
        return None, f"{refused.method}: {refused.reason}"
    if hesitant:
        first = hesitant[0]
        return _by_visible(hesitant, visible, f"{first.method}: {first.reason}")
    seen = visible.get()
    if seen is None:
        return None, "no price found"
    if seen.price is None:
        return None, f"{seen.method}: {seen.reason}"
    return seen, None


def _by_visible(
    sources: list[Found], visible: _Visible, why: str
) -> tuple[Found | None, str | None]:
    """The one value of ``sources`` that the visible main price confirms."""
    shown = visible.values()
    options = [(f, v) for f in sources for v in ((f.price,) if f.price else f.candidates)]
    chosen = [(f, v) for f, v in options if any(abs(v - s) <= _CENT for s in shown)]
    agreed = distinct_prices([v for _f, v in chosen])
    if len(agreed) != 1:
        return None, why
    source, value = chosen[0]
    note = f"{why}; the visible price beside the product is {value}"
    return replace(source, price=value, reason=note), note


_CENT = Decimal("0.01")  # a visible price confirms a structured one only to the cent


def _among(value: Decimal, candidates: tuple[Decimal, ...]) -> bool:
    return any(same_price(value, c) for c in candidates)


def _old_price(price: Found, found: list[Found], visible: _Visible) -> Decimal | None:
    """An old price above the price: from the sources, else a struck-through/old-price
    element beside the same visible price."""
    assert price.price is not None
    for f in (price, *found):
        if f.old_price is not None and f.old_price > price.price:
            return f.old_price
    if price.method == "heuristic" or not (visible.done or visible.has_struck()):
        return None  # reading the visible prices only for an old one is not worth it
    seen = visible.get()
    if seen and seen.price is not None and seen.old_price and same_price(seen.price, price.price):
        return seen.old_price
    return None


def _availability(found: list[Found], price: Found | None, region: PageRegion) -> str:
    stated = next((f.availability for f in found if f.availability != UNKNOWN), UNKNOWN)
    if price is not None and price.availability != UNKNOWN:
        stated = price.availability
    if stated != UNKNOWN:
        return stated
    badge = find_stock_text(region)
    if badge != UNKNOWN:
        return badge
    control = find_visible_stock(region)
    if control != UNKNOWN or price is None:
        return control
    # A product page showing its price, with no data, badge or buy control saying it
    # is sold out, sells the product (a classified ad, a deal page without a cart).
    return IN_STOCK
