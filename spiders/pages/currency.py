"""The currency of the chosen price, by evidence: an ISO code in the page's data beats
a symbol read from its text, and a bare ``$`` (or no sign at all) is read through the
page's country (``<html lang="es-CL">``, ``og:locale``, the address's country domain),
so ``$24.990`` on a Chilean page is CLP and ``$`` beside microdata CAD is CAD."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from spiders.pages.found import Found
from spiders.pages.tree import Document

# Countries writing their currency with a bare "$" (or whose pages often show no sign).
_DOLLAR_COUNTRY: dict[str, str] = {
    "us": "USD", "ca": "CAD", "au": "AUD", "nz": "NZD", "cl": "CLP", "ar": "ARS",
    "mx": "MXN", "co": "COP", "sg": "SGD", "hk": "HKD", "tw": "TWD", "uy": "UYU",
    "ec": "USD", "pr": "USD", "sv": "USD", "pa": "USD",
}  # fmt: skip
# A country's own currency, for a price that shows no sign and no code at all.
_COUNTRY: dict[str, str] = {
    **_DOLLAR_COUNTRY, "ru": "RUB", "by": "BYN", "ua": "UAH", "kz": "KZT", "kr": "KRW",
    "jp": "JPY", "cn": "CNY", "in": "INR", "pk": "PKR", "gb": "GBP", "uk": "GBP", "ch": "CHF",
    "pl": "PLN", "cz": "CZK", "hu": "HUF", "ro": "RON", "bg": "BGN", "se": "SEK", "no": "NOK",
    "dk": "DKK", "br": "BRL", "tr": "TRY", "de": "EUR", "fr": "EUR", "it": "EUR", "es": "EUR",
    "pt": "EUR", "nl": "EUR", "fi": "EUR", "ee": "EUR", "lv": "EUR", "lt": "EUR", "at": "EUR",
    "be": "EUR", "ie": "EUR", "si": "EUR", "sk": "EUR", "gr": "EUR",
}  # fmt: skip
_GENERIC_TLDS = frozenset({"co", "io", "me", "tv", "ai", "fm", "ly", "to", "cc", "ws", "app"})
_LOCALE = re.compile(r"^[a-z]{2,3}[-_]([a-z]{2})$", re.I)
_STRUCTURED = frozenset({"json-ld", "microdata", "rdfa", "opengraph", "selectors"})


def settle_currency(
    price: Found, found: list[Found], visible: Callable[[], Found | None], url: str,
    doc: Document, meta: dict[str, str],
) -> str | None:  # fmt: skip
    """ISO code for ``price`` (see the module doc), or None when nothing says."""
    data = [f.currency for f in found if f.method in _STRUCTURED and f.currency]
    if price.method in _STRUCTURED and price.currency and price.currency != "USD":
        return price.currency
    code = next((c for c in data if c != "USD"), None) or (data[0] if data else None)
    if code is None:
        seen = visible()
        code = seen.currency if seen is not None else None
    if code is None:
        code = price.currency
    if code == "USD" and "USD" not in data:
        return _DOLLAR_COUNTRY.get(page_country(url, doc, meta) or "", code)
    if code is None:
        return _COUNTRY.get(page_country(url, doc, meta) or "")
    return code


def page_country(url: str, doc: Document, meta: dict[str, str]) -> str | None:
    """Two-letter country of the page: its language tag, og:locale, else its domain."""
    html = doc.css_first("html")
    for value in (html.attributes.get("lang") if html is not None else None, meta.get("og:locale")):
        match = _LOCALE.match((value or "").strip())
        if match:
            return match.group(1).lower()
    host = (urlsplit(url).hostname or "").lower()
    tld = host.rsplit(".", 1)[-1]
    return tld if len(tld) == 2 and tld not in _GENERIC_TLDS else None
