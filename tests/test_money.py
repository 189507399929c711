from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from repricer.money import format_money, normalize_currency, parse_amount, parse_money

NBSP, THIN, NNBSP = "\u00a0", "\u2009", "\u202f"

AMOUNTS = [
    ("1 299", Decimal("1299")),
    (f"1{NBSP}299,90 руб.", Decimal("1299.90")),
    (f"1{THIN}299 ₽", Decimal("1299")),
    (f"12{NNBSP}345,5", Decimal("12345.5")),
    ("от 2 490 ₽", Decimal("2490")),
    ("$1,299.99", Decimal("1299.99")),
    ("1.299,99 €", Decimal("1299.99")),
    ("12.5", Decimal("12.5")),
    (1299, Decimal("1299")),
    (12.5, Decimal("12.5")),
    ("", None),
    ("цена по запросу", None),
    ("5 шт по 300", None),
    (float("nan"), None),
    (None, None),
    (True, None),
]


@pytest.mark.parametrize(("text", "expected"), AMOUNTS, ids=[repr(a[0]) for a in AMOUNTS])
def test_parse_amount(text: object, expected: Decimal | None) -> None:
    assert parse_amount(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("₽", "RUB"),
        ("руб.", "RUB"),
        ("р.", "RUB"),
        ("RUR", "RUB"),
        ("$", "USD"),
        ("грн", "UAH"),
        ("₸", "KZT"),
        ("Kč", "CZK"),
        ("zł", "PLN"),
        ("eur", "EUR"),
        ("??", None),
    ],
)
def test_normalize_currency(text: str, code: str | None) -> None:
    assert normalize_currency(text) == code


def test_format_money() -> None:
    assert format_money(129900, "RUB") == f"1{NBSP}299{NBSP}₽"
    assert format_money(129990, "RUB") == f"1{NBSP}299,90{NBSP}₽"
    assert format_money(-5, "USD") == f"−0,05{NBSP}$"
    assert format_money(None) == "—"


@given(st.integers(min_value=1, max_value=10**12))
def test_format_then_parse_roundtrips(minor: int) -> None:
    assert parse_money(format_money(minor, "RUB"), "RUB") == minor
