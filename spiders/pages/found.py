"""What one extraction source found, and how several offers or products reduce to one.

Every source (JSON-LD, microdata, RDFa, OpenGraph, selectors, heuristics) returns a
:class:`Found`. A ``Found`` with ``price=None`` and a ``reason`` means the source saw
product data but could not tell which price is the product's: extraction then stops
with that reason instead of trying a weaker source.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

from spiders.pages._phrases import IN_STOCK, UNKNOWN

# The page's title, or a function reading it only when several products need it.
Heading = str | Callable[[], str | None] | None


@dataclass(frozen=True)
class Found:
    """One source's reading of the page. Prices are Decimal major units.

    ``candidates``: when the source could not tell the price (``reason`` set), the
    prices it hesitated between; visible evidence may still pick one of them."""

    method: str
    price: Decimal | None = None
    old_price: Decimal | None = None
    currency: str | None = None
    availability: str = UNKNOWN
    sku: str | None = None
    gtin: str | None = None
    title: str | None = None
    url: str | None = None
    brand: str | None = None
    reason: str | None = None
    candidates: tuple[Decimal, ...] = ()

    @property
    def ambiguous(self) -> bool:
        return self.price is None and self.reason is not None


def same_price(a: Decimal, b: Decimal, tolerance: Decimal = Decimal("0.01")) -> bool:
    """Equal within ``tolerance`` (relative) or one minor unit."""
    return abs(a - b) <= max(Decimal("0.01"), tolerance * max(a, b))


def distinct_prices(prices: Sequence[Decimal]) -> list[Decimal]:
    """Prices that differ from each other (within the tolerance), in first-seen order."""
    out: list[Decimal] = []
    for price in prices:
        if not any(same_price(price, seen) for seen in out):
            out.append(price)
    return out


def reduce_offers(method: str, offers: Sequence[Found], page_url: str = "") -> Found | None:
    """Several offers of one product -> one: the variant the page's URL selects (its URL,
    or its sku as a query value), all the same price, or the single in-stock price;
    else ambiguous, with every offered price kept in ``candidates`` so visible evidence
    can still pick one. Availability: in stock when any offer is."""
    priced = [o for o in offers if o.price is not None]
    if not priced:
        return next((o for o in offers if o.ambiguous), None)
    mine = selected_variant(priced, page_url)
    if mine is not None:
        return mine
    stock = _any_stock(priced)
    for pool in (priced, [o for o in priced if o.availability == IN_STOCK]):
        values = distinct_prices([o.price for o in pool if o.price is not None])
        if len(values) == 1:
            return replace(_merge_offers(pool), availability=stock)
    values = distinct_prices([o.price for o in priced if o.price is not None])
    return Found(
        method,
        reason=f"{len(values)} offers with different prices ({_show(values)})",
        currency=next((o.currency for o in priced if o.currency), None),
        availability=stock,
        candidates=tuple(values),
    )


def selected_variant(offers: Sequence[Found], page_url: str) -> Found | None:
    """The one offer the page's URL names: same URL with a query, or a query value
    equal to the offer's sku."""
    if "?" not in page_url:
        return None
    mine = [o for o in offers if o.url and "?" in o.url and same_url(o.url, page_url)]
    if len(mine) == 1:
        return mine[0]
    values = {v.casefold() for _k, v in parse_qsl(urlsplit(page_url).query) if len(v) > 2}
    mine = [o for o in offers if o.sku and o.sku.casefold() in values]
    return mine[0] if len(mine) == 1 else None


def _any_stock(offers: Sequence[Found]) -> str:
    states = {o.availability for o in offers}
    if IN_STOCK in states:
        return IN_STOCK
    states.discard(UNKNOWN)
    return states.pop() if len(states) == 1 else UNKNOWN


def choose_product(
    method: str, products: Sequence[Found], page_url: str, heading: Heading = None
) -> Found | None:
    """The page's own product among several: the one whose URL is the page's, else the
    one named like the page's ``<h1>``, else all agreeing on the price; else ambiguous."""
    if not products:
        return None
    ambiguous = [p for p in products if p.ambiguous]
    priced = [p for p in products if p.price is not None]
    if len(products) == 1 or (not priced and ambiguous):
        return products[0] if len(products) == 1 else ambiguous[0]
    mine = [p for p in products if p.url and same_url(p.url, page_url)]
    if len(mine) == 1:
        return mine[0]
    title = heading() if callable(heading) else heading
    named = [p for p in products if title and p.title and _same_name(p.title, title)]
    if len(named) == 1:
        return named[0]
    # Several entries for the page's own URL or title, or all of one name, are its
    # variants (sizes, colours).
    names = {" ".join((p.title or "").casefold().split()) for p in products}
    alike = list(products) if len(names) == 1 and "" not in names else []
    variants = mine if len(mine) > 1 else named if len(named) > 1 else alike
    pool = variants or products
    priced = [p for p in pool if p.price is not None]
    values = distinct_prices([p.price for p in priced if p.price is not None])
    stock = _any_stock(pool) if variants else UNKNOWN
    if len(values) == 1 and not any(p.ambiguous for p in pool):
        return replace(priced[0], availability=stock) if variants else priced[0]
    return Found(
        method,
        reason=f"{len(pool)} products on the page ({_show(values)})",
        currency=next((p.currency for p in priced if p.currency), None),
        availability=stock,
        candidates=tuple(values) if variants else (),
    )


def same_url(a: str, b: str) -> bool:
    """Same host and path, ignoring scheme, ``www.``, trailing slash and fragment."""
    pa, pb = urlsplit(a.strip()), urlsplit(b.strip())
    host_a = (pa.hostname or "").removeprefix("www.")
    host_b = (pb.hostname or "").removeprefix("www.")
    if host_a and host_b and host_a != host_b:
        return False
    same_path = pa.path.rstrip("/") == pb.path.rstrip("/")
    return same_path and (not pa.query or not pb.query or pa.query == pb.query)


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


def _merge_offers(pool: Sequence[Found]) -> Found:
    first = pool[0]
    olds = [o.old_price for o in pool if o.old_price is not None]
    currency = next((o.currency for o in pool if o.currency), None)
    availability = next((o.availability for o in pool if o.availability != UNKNOWN), UNKNOWN)
    return replace(
        first,
        old_price=olds[0] if len(distinct_prices(olds)) == 1 else None,
        currency=currency,
        availability=availability,
    )


def _show(values: Sequence[Decimal]) -> str:
    return ", ".join(str(v) for v in values[:4])
