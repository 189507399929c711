"""One supplier offer, normalised: what parsers produce and the sync stages.

Parsers hand over raw cells (``{field: value}`` with the field names of
:data:`repricer.feeds._aliases.FEED_ALIASES`, plus where the row came from); this module
turns them into a :class:`FeedRecord`, a one-line reason the row is skipped (messy:
no key, no cost), or a :class:`RowFault` when a value must not be guessed at and the
whole feed is refused: an amount with more decimals than the currency has, a currency
in a cell other than the supplier's, a number beyond the bounds of
:mod:`repricer.money`. It never raises on messy values. Money is int minor units,
parsed through :mod:`repricer.money` with a fast path for plain ``1234.50`` /
``1234,50`` numbers. A negative stock count means out of stock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, NamedTuple

from price_parser import Price

from repricer.feeds._aliases import FALSE_WORDS, TRUE_WORDS
from repricer.money import (
    MAX_MINOR,
    MAX_STOCK,
    AmountError,
    minor_digits,
    normalize_currency,
    parse_amount,
    refuse_ambiguous,
    to_minor,
)

# The supplier's ``key`` setting -> the raw field holding the key value.
KEY_FIELDS = {"sku": "sku", "vendorCode": "vendor_code", "barcode": "barcode"}

_INTEGER = re.compile(r"[<>~≥≤+]?\s*(\d{1,9})(?:[.,]0+)?\s*\+?")
_NEGATIVE = re.compile(r"[-−]\s*\d+(?:[.,]\d+)?")


class RowFault(NamedTuple):
    """A row whose values must not be guessed at; the whole feed is refused, naming it."""

    reason: str


class _Fault(Exception):
    pass


class FeedRecord(NamedTuple):
    """A valid offer. ``cost``/``retail_price``/``old_price`` are minor units of
    ``currency``; ``stock_qty`` None means the feed does not say how many."""

    key: str
    offer_id: str | None
    name: str | None
    vendor: str | None
    vendor_code: str | None
    barcode: str | None
    currency: str
    cost: int
    retail_price: int | None
    old_price: int | None
    stock_qty: int | None
    available: bool


RECORD_FIELDS = FeedRecord._fields


class StockRow(NamedTuple):
    """A valid row of a stock-only source; ``stock_qty`` None: the row does not say how
    many (an availability word only)."""

    key: str
    stock_qty: int | None
    available: bool


def build_record(
    raw: Mapping[str, Any], key: str, default_currency: str
) -> FeedRecord | str | RowFault:
    """Normalise one raw row; return the record, the reason the row is skipped, or a
    :class:`RowFault` (naming the SKU) when the whole feed must be refused."""
    key_value = text(raw.get(KEY_FIELDS[key]))
    if key_value is None:
        return f"no {key}"
    if len(key_value) > 100:
        return f"{key} longer than 100 characters"
    try:
        return _checked_record(raw, key_value, default_currency)
    except _Fault as exc:
        return RowFault(f"{key} {key_value}: {exc}")


def _checked_record(raw: Mapping[str, Any], key_value: str, currency: str) -> FeedRecord | str:
    if (given := text(raw.get("currency"))) is not None:
        found = _currency(given)
        if not found:
            return f"unknown currency {given!r}"
        if found != currency:
            raise _Fault(f"currency {given!r} is not the supplier's currency {currency}")
    cost = _money_cell(raw, "cost", currency)
    if cost is None:
        shown = raw.get("cost")
        return "no cost" if text(shown) is None else f"cost {shown!r} is not a number"
    if cost <= 0:
        return f"cost must be positive, got {raw.get('cost')!r}"
    return _record(raw, key_value, currency, cost)


def _money_cell(raw: Mapping[str, Any], name: str, currency: str) -> int | None:
    """A money field in minor units; :class:`_Fault` for an ambiguous, foreign-currency
    or out-of-range amount."""
    value = raw.get(name)
    try:
        minor = parse_minor(value, currency, strict=True)
    except AmountError as exc:
        raise _Fault(f"{name} {value!r}: {exc}") from None
    if minor is not None and abs(minor) > MAX_MINOR:
        raise _Fault(f"{name} {value!r} is above the limit of {MAX_MINOR} minor units")
    return minor


def build_stock_row(raw: Mapping[str, Any], key: str) -> StockRow | str | RowFault:
    """Normalise one row of a stock-only source: the row, the reason it is skipped (no
    key, or neither a count nor an availability word where one is written: never read
    as out of stock), or a :class:`RowFault` (naming the SKU) for a count beyond bounds."""
    key_value = text(raw.get(KEY_FIELDS[key]))
    if key_value is None:
        return f"no {key}"
    if len(key_value) > 100:
        return f"{key} longer than 100 characters"
    cell, word = raw.get("stock"), raw.get("available")
    if text(cell) is not None and parse_stock(cell) is None and parse_bool(cell) is None:
        return f"{key} {key_value}: stock {cell!r} is not a count"
    try:
        stock, available = _stock_cells(raw)
    except _Fault as exc:
        return RowFault(f"{key} {key_value}: {exc}")
    if stock is None and parse_bool(word) is None:
        return f"{key} {key_value}: neither a stock count nor an availability word"
    return StockRow(key_value, stock, available)


def _stock_cells(raw: Mapping[str, Any]) -> tuple[int | None, bool]:
    """(count or None, available) of a row; :class:`_Fault` for a count beyond bounds."""
    stock = parse_stock(raw.get("stock"))
    if stock is not None and stock > MAX_STOCK:
        raise _Fault(f"stock {raw.get('stock')!r} is above the limit of {MAX_STOCK}")
    return stock, available_from(parse_bool(raw.get("available")), stock)


def _record(raw: Mapping[str, Any], key_value: str, currency: str, cost: int) -> FeedRecord:
    get = raw.get
    stock, available = _stock_cells(raw)
    retail = _money_cell(raw, "retail_price", currency)
    old = _money_cell(raw, "old_price", currency)
    return finish_record(
        key_value,
        _clip(get("offer_id"), 100),
        _clip(get("name"), 500),
        _clip(get("vendor"), 200),
        _clip(get("vendor_code"), 100),
        text(get("barcode")),
        currency,
        cost,
        retail,
        old,
        stock,
        available,
    )


def available_from(flag: bool | None, stock: int | None) -> bool:
    """An offer is available unless the feed says it is not or its stock is zero."""
    return (flag if flag is not None else True) and (stock is None or stock > 0)


def finish_record(
    key: str,
    offer_id: str | None,
    name: str | None,
    vendor: str | None,
    vendor_code: str | None,
    barcode: str | None,
    currency: str,
    cost: int,
    retail: int | None,
    old: int | None,
    stock: int | None,
    available: bool,
) -> FeedRecord:
    """The record of checked cells: a barcode that is not one, and prices that are not
    positive, are left out."""
    return FeedRecord(
        key,
        offer_id,
        name,
        vendor,
        vendor_code,
        barcode if barcode and _is_barcode(barcode) else None,
        currency,
        cost,
        retail if retail and retail > 0 else None,
        old if old and old > 0 else None,
        stock,
        available,
    )


def _is_barcode(value: str) -> bool:
    return 8 <= len(value) <= 14 and value.isascii() and value.isdigit()


@lru_cache(maxsize=256)
def _cents(currency: str) -> bool:
    return minor_digits(currency) == 2


@lru_cache(maxsize=256)
def _currency(given: str) -> str | None:
    return normalize_currency(given)


def text(value: Any) -> str | None:
    """A cell as stripped text; spreadsheet floats like ``4601234567890.0`` lose ``.0``."""
    if value is None:
        return None
    if type(value) is not str:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        value = str(value)
    return value.strip() or None


def parse_minor(value: Any, currency: str, *, strict: bool = False) -> int | None:
    """A money cell -> int minor units, or None when it is not one clear number.

    With ``strict``, an amount that cannot be taken as it is raises AmountError: more
    decimals than the currency has, beyond the bounds, or written with another currency
    (``"12,50 EUR"`` in a RUB feed). Without, such amounts are None.
    """
    if value is None:
        return None
    if type(value) is str and _cents(currency):
        plain = _plain_minor(value.strip())
        if plain is not None:
            return plain
    try:
        if type(value) is str:
            refuse_ambiguous(value, currency)
        amount = parse_amount(value)
        if amount is None:
            return None
        if type(value) is str:
            _check_currency(value, currency)
        return to_minor(amount, currency)
    except (AmountError, ArithmeticError):
        if strict:
            raise
        return None


def _check_currency(value: str, currency: str) -> None:
    written = Price.fromstring(value).currency
    found = normalize_currency(written) if written else None
    if found is not None and found != currency:
        raise AmountError(f"the amount is in {found}, the supplier's currency is {currency}")


def _plain_minor(value: str) -> int | None:
    # The common case, "1299" / "1299.9" / "1299,90", without a regex or a Decimal.
    whole, _sep, frac = value.replace(",", ".", 1).partition(".")
    if not (whole.isascii() and whole.isdigit() and len(whole) <= 15):
        return None
    if not frac:
        return int(whole) * 100 if not _sep else None
    if len(frac) > 2 or not (frac.isascii() and frac.isdigit()):
        return None
    return int(whole) * 100 + int(frac.ljust(2, "0"))


def parse_stock(value: Any) -> int | None:
    """``"12"``, ``12.0``, ``">10"``, ``"10+"`` -> a count; ``"-5"`` -> 0 (a negative
    count is out of stock); yes/no words -> None/0."""
    if type(value) is str and value.isascii() and value.isdigit():
        return int(value)
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return max(0, int(value)) if value == value and abs(value) < 1e18 else None
    raw = str(value).strip().lower()
    if raw.isascii() and raw.isdigit():
        return int(raw)
    if _NEGATIVE.fullmatch(raw):
        return 0  # "-5": oversold, out of stock
    match = _INTEGER.fullmatch(raw)
    if match:
        return int(match.group(1))
    return 0 if raw in FALSE_WORDS else None


def parse_bool(value: Any) -> bool | None:
    """Availability words (true/false, да/нет, в наличии, ...) -> bool; else None."""
    if value is None or value == "true":
        return None if value is None else True
    if isinstance(value, bool):
        return value
    raw = str(value).strip().lower()
    if raw in TRUE_WORDS:
        return True
    if raw in FALSE_WORDS:
        return False
    return None


def _clip(value: Any, limit: int) -> str | None:
    if type(value) is str:  # the common case, without the detour through text()
        return value.strip()[:limit] or None
    result = text(value)
    return result[:limit] if result else None
