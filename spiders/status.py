"""Name the outcome of one fetch as an observation: ok, no_price, not_found, blocked,
redirect, timeout or error. Never a price from an error page."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from repricer.config import Settings
from repricer.money import AmountError, to_minor
from spiders.items import ObservationItem
from spiders.pages import ExtractedProduct, looks_blocked
from spiders.pages.found import same_url
from spiders.targets import Target

BLOCKED_CODES = frozenset({401, 403, 407, 429, 451})
NOT_FOUND_CODES = frozenset({404, 410})
# A page's text, or a function decoding it when asked (most outcomes never need it).
PageText = str | Callable[[], str]


def observe_page(
    target: Target,
    http_status: int,
    final_url: str,
    page: tuple[PageText, ExtractedProduct] | None,
    settings: Settings,
) -> ObservationItem:
    """The observation for a response; ``page`` is (text, extraction), None for a body
    that is not text (an image, a PDF, binary garbage)."""
    item = ObservationItem(target.listing_id, target.competitor.name, target.url, "error",
                           http_status=http_status, product_gtin=target.product_gtin)  # fmt: skip
    if http_status in NOT_FOUND_CODES:
        return _with(item, "not_found", f"HTTP {http_status}")
    if http_status in BLOCKED_CODES:
        return _with(item, "blocked", f"HTTP {http_status}")
    if http_status >= 400:
        if page is not None and looks_blocked(_text(page[0])):  # a 503 challenge page
            return _with(item, "blocked", f"HTTP {http_status}, captcha or challenge page")
        return _with(item, "error", f"HTTP {http_status}")
    if page is None:
        return _with(item, "error", "not an HTML page")
    text, extracted = page
    _describe(item, extracted)
    if not _same_page(target.url, final_url) and (
        extracted.price is None or not _slug_moved(target.url, final_url)
    ):
        return _with(item, "redirect", f"redirected to {final_url}")
    if extracted.price is None:
        if not extracted.is_product and looks_blocked(_text(text)):
            return _with(item, "blocked", "captcha or access-denied page")
        return _with(item, "no_price", extracted.reason or "no price found")
    currency = extracted.currency or target.competitor.currency or settings.pricing.currency
    try:
        price = to_minor(extracted.price, currency)
        old_price = to_minor(extracted.old_price, currency) if extracted.old_price else None
    except AmountError as exc:  # 12.345 RUB or a barcode read as a price: not a price
        return _with(item, "no_price", str(exc))
    item.status = "ok"
    item.currency = currency
    item.price, item.old_price = price, old_price
    return item


def observe_failure(
    target: Target, error: BaseException, http_status: int | None = None
) -> ObservationItem:
    """The observation for a request that got no response (timeout, refused, robots),
    or whose page could not be processed."""
    item = ObservationItem(target.listing_id, target.competitor.name, target.url, "error",
                           http_status=http_status, product_gtin=target.product_gtin)  # fmt: skip
    kind = type(error).__name__
    message = str(error).strip() or kind
    if "Timeout" in kind or "timed out" in message.lower() or "timeout" in message.lower():
        return _with(item, "timeout", message[:300])
    if kind == "IgnoreRequest" and "robots" in message.lower():
        return _with(item, "blocked", "disallowed by robots.txt")
    if kind == "IgnoreRequest":
        return _with(item, "blocked", message[:300])
    return _with(item, "error", f"{kind}: {message}"[:300])


def _text(text: PageText) -> str:
    return text if isinstance(text, str) else text()


def _describe(item: ObservationItem, extracted: ExtractedProduct) -> None:
    item.availability = extracted.availability
    item.method = extracted.method
    item.title = extracted.title
    item.gtin = extracted.gtin


def _with(item: ObservationItem, status: str, reason: str) -> ObservationItem:
    item.status = status
    item.reason = reason
    return item


def _same_page(requested: str, final: str) -> bool:
    if requested == final:
        return True
    return same_url(requested, final) or urlsplit(requested).path == urlsplit(final).path


def _slug_moved(requested: str, final: str) -> bool:
    """``/p/123`` -> ``/p/123-kettle-bosch``: the same product under a longer address."""
    old = urlsplit(requested).path.rstrip("/").rsplit("/", 1)[-1]
    new = urlsplit(final).path.rstrip("/").rsplit("/", 1)[-1]
    return bool(old) and bool(new) and (new.startswith(old) or old.startswith(new))
