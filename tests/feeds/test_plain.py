"""The plain-row fast path gives exactly what the full record builder gives."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from repricer.feeds.plain import plain_record
from repricer.feeds.records import KEY_FIELDS, build_record

_money = st.one_of(
    st.none(),
    st.from_regex(r"\A *[0-9]{1,16}([.,][0-9]{0,3})? *\Z"),
    st.sampled_from(["", " ", "0", "0.00", "-5", "1 299,50", "12,50 EUR", "abc", "1e3"]),
)
_text = st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["  ", " x ", "4601234567890"]))
_raw = st.fixed_dictionaries(
    {},
    optional={
        "sku": st.one_of(_text, st.text(min_size=99, max_size=102)),
        "vendor_code": _text,
        "barcode": _text,
        "offer_id": _text,
        "name": st.one_of(_text, st.text(min_size=499, max_size=502)),
        "vendor": _text,
        "currency": st.one_of(st.none(), st.sampled_from(["RUB", "RUR", " руб. ", "USD", "", "x"])),
        "cost": _money,
        "retail_price": _money,
        "old_price": _money,
        "stock": st.one_of(
            st.none(),
            st.from_regex(r"\A[0-9]{1,11}\Z"),
            st.sampled_from(["", "-3", ">10", "да", "нет", 7, 2.0]),
        ),
        "available": st.one_of(st.none(), st.sampled_from(["true", "false", "да", "", "maybe"])),
    },
)


@settings(max_examples=1000, deadline=None)
@given(raw=_raw, key=st.sampled_from(sorted(KEY_FIELDS)), currency=st.sampled_from(["RUB", "JPY"]))
def test_plain_record_equals_build_record(raw: dict[str, Any], key: str, currency: str) -> None:
    fast = plain_record(raw, KEY_FIELDS[key], currency)
    if fast is not None:
        assert fast == build_record(raw, key, currency)


def test_a_plain_offer_takes_the_fast_path() -> None:
    raw = {"sku": " A-1 ", "cost": "1299.5", "stock": "4", "available": "true", "currency": "RUR"}
    record = plain_record(raw, "sku", "RUB")
    assert record is not None and record == build_record(raw, "sku", "RUB")
    assert (record.key, record.cost, record.stock_qty, record.available) == ("A-1", 129950, 4, True)
