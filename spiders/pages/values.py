"""Turn one raw value from a page (a JSON number, an attribute, an element's text)
into a price, a currency code, an availability or a GTIN.

Prices are ``Decimal`` major units (``Decimal("1299.90")``): extraction happens before
the currency is known for sure, so conversion to int minor units is the pipeline's
job (``repricer.money.to_minor``). Functions return ``None`` for anything that is
not one clear value; they never raise on messy input.
"""

from __future__ import annotations

import re
from decimal import Decimal

from price_parser import Price

from repricer._currencies import ALIASES
from repricer.money import normalize_currency, parse_amount
from spiders.pages._phrases import (
    IN_STOCK,
    IN_STOCK_PHRASE,
    OUT_OF_STOCK,
    OUT_OF_STOCK_PHRASE,
    PER_UNIT,
    SCHEMA_AVAILABILITY,
    UNKNOWN,
)
from spiders.pages.tree import squash

MAX_PRICE = Decimal(10) ** 10
_WORD = re.compile(r"[^\W\d_]+\.?|[^\w\s]")
_AMOUNT = re.compile(r"\d[\d\s\u00a0\u2009\u202f.,']*\d|\d")


def parse_price(value: object) -> Decimal | None:
    """A positive price from a number or a string (``"1 299,90 руб."``, ``"от 2 490 ₽"``,
    ``"1,299.00"``); ``None`` for zero, negatives, several numbers or per-unit prices."""
    if isinstance(value, list | dict | tuple):
        return None
    if isinstance(value, str):
        value = squash(value)
        if not value or PER_UNIT.search(value):
            return None
    amount = parse_amount(value)
    if amount is None and isinstance(value, str):
        amount = _repeated_amount(value)
    if amount is None or amount <= 0 or amount >= MAX_PRICE:
        return None
    return Decimal(int(amount)) if amount == amount.to_integral_value() else amount


def _repeated_amount(text: str) -> Decimal | None:
    """One amount written several times (``109€109€109``: a price copied for each
    screen size), else None."""
    amounts = _AMOUNT.findall(text)
    if len(amounts) < 2 or len({a.strip(" .,") for a in amounts}) != 1:
        return None
    return parse_amount(amounts[0])


def is_per_unit(text: str) -> bool:
    """True for text quoting a price per kg, per piece, per month …"""
    return bool(PER_UNIT.search(squash(text)))


def find_currency(text: str | None) -> str | None:
    """ISO code of the currency written in ``text`` (a code, symbol or word), or None."""
    if not text:
        return None
    text = squash(text)
    direct = normalize_currency(text)  # codes (RUR -> RUB), symbols, words
    if direct:
        return direct
    found = Price.fromstring(text).currency
    code = normalize_currency(found) if found else None
    if code is not None:
        return code
    # Words price-parser does not know (тг., грн., лв): any word of the text that is a
    # known currency sign or word.
    return next((ALIASES[w] for w in _WORD.findall(text.lower()) if w in ALIASES), None)


def parse_availability(value: object) -> str:
    """schema.org / OpenGraph availability (URL or word) -> in_stock|out_of_stock|unknown."""
    if not isinstance(value, str) or not value.strip():
        return UNKNOWN
    key = value.strip().lower().rstrip("/")
    key = key.rsplit("/", 1)[-1].rsplit(":", 1)[-1].rsplit("#", 1)[-1]
    return SCHEMA_AVAILABILITY.get(key, SCHEMA_AVAILABILITY.get(key.replace(" ", ""), UNKNOWN))


def availability_from_text(text: str) -> str:
    """Availability stated by a short visible text (a stock badge), else unknown."""
    text = squash(text).lower()
    if not text:
        return UNKNOWN
    if OUT_OF_STOCK_PHRASE.search(text):
        return OUT_OF_STOCK
    if IN_STOCK_PHRASE.search(text):
        return IN_STOCK
    return UNKNOWN


def parse_gtin(value: object) -> str | None:
    """A GTIN-8/12/13/14 of digits only, or None."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    digits = re.sub(r"[\s-]", "", value)
    return digits if re.fullmatch(r"\d{8}|\d{12,14}", digits) else None


def clean_text(value: object, limit: int = 500) -> str | None:
    """A short single-line string (title, sku), or None."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    text = squash(value)
    return text[:limit] or None
