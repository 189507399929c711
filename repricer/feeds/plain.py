"""The common case of :func:`repricer.feeds.records.build_record`, without its detours.

Most offers are plain: text cells, the key present, the supplier's currency, costs
like ``1299.50``, a digit stock count. :func:`plain_record` builds the record of such a
row in one pass, with the same result :func:`build_record` gives, and returns None for
anything else (a missing or odd value, a skip, a fault), which the caller then hands to
:func:`build_record` for the full checks and the message. A sync of a million offers
spends most of its Python time here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from repricer.feeds.records import (
    FeedRecord,
    _cents,
    _currency,
    _plain_minor,
    available_from,
    finish_record,
    parse_bool,
)
from repricer.money import MAX_MINOR, MAX_STOCK


def plain_record(raw: Mapping[str, Any], key_field: str, currency: str) -> FeedRecord | None:
    """The record of a plain row (``key_field``: the raw field holding the key), or
    None when the row needs :func:`build_record`."""
    get = raw.get
    key = get(key_field)
    if type(key) is not str or not _cents(currency):
        return None
    key = key.strip()
    given = get("currency")
    if not key or len(key) > 100 or (given is not None and not _same(given, currency)):
        return None
    cost, retail, old = _minor(get("cost")), get("retail_price"), get("old_price")
    if cost is None or cost <= 0:
        return None
    if (retail is not None and (retail := _minor(retail)) is None) or (
        old is not None and (old := _minor(old)) is None
    ):
        return None
    stock = get("stock")
    if stock is not None and (stock := _count(stock)) is None:
        return None
    texts = _texts(get("offer_id"), get("name"), get("vendor"), get("vendor_code"), get("barcode"))
    if texts is None:
        return None
    offer_id, name, vendor, vendor_code, barcode = texts
    return finish_record(
        key,
        offer_id[:100] or None,
        name[:500] or None,
        vendor[:200] or None,
        vendor_code[:100] or None,
        barcode,
        currency,
        cost,
        retail,
        old,
        stock,
        available_from(parse_bool(get("available")), stock),
    )


def _same(given: Any, currency: str) -> bool:
    return type(given) is str and _currency(given.strip()) == currency


def _minor(value: Any) -> int | None:
    if type(value) is not str:
        return None
    minor = _plain_minor(value.strip())
    return minor if minor is not None and minor <= MAX_MINOR else None


def _count(value: Any) -> int | None:
    if type(value) is not str or not (value.isascii() and value.isdigit()):
        return None
    count = int(value)
    return count if count <= MAX_STOCK else None


def _texts(*values: Any) -> tuple[str, ...] | None:
    texts = []
    for value in values:
        if value is None:
            texts.append("")
        elif type(value) is str:
            texts.append(value.strip())
        else:
            return None
    return tuple(texts)
