from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from repricer.money import (
    MAX_MINOR,
    AmountError,
    format_money,
    normalize_currency,
    parse_amount,
    parse_money,
    round_minor,
    to_minor,
)
from repricer.pricing.rule_values import to_minor_units

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


@given(st.integers(min_value=1, max_value=MAX_MINOR))
def test_format_then_parse_roundtrips(minor: int) -> None:
    assert parse_money(format_money(minor, "RUB"), "RUB") == minor


EXACT = [
    (Decimal("10.12"), "RUB", 1012),
    (Decimal("10.120"), "RUB", 1012),
    (Decimal("1299"), "JPY", 1299),
    (Decimal("1.234"), "KWD", 1234),
    (Decimal("1000000000"), "RUB", MAX_MINOR),
]


@pytest.mark.parametrize(("amount", "currency", "minor"), EXACT, ids=[str(e[0]) for e in EXACT])
def test_to_minor_is_exact(amount: Decimal, currency: str, minor: int) -> None:
    assert to_minor(amount, currency) == minor


REFUSED = [
    (Decimal("10.125"), "RUB", "more than 2 decimal"),
    (Decimal("0.001"), "RUB", "more than 2 decimal"),
    (Decimal("12.5"), "JPY", "more than 0 decimal"),
    (Decimal("4600000000000"), "RUB", "above the limit"),
    (Decimal("1E+400"), "RUB", "above the limit"),
    (Decimal("NaN"), "RUB", "not an amount"),
]


@pytest.mark.parametrize(("amount", "currency", "words"), REFUSED, ids=[str(r[0]) for r in REFUSED])
def test_ambiguous_or_huge_amounts_are_refused(amount: Decimal, currency: str, words: str) -> None:
    with pytest.raises(AmountError, match=words):
        to_minor(amount, currency)


def test_rule_amounts_and_money_share_one_rule() -> None:
    # 10.125 used to give 1012 here (half-to-even) and 1013 in money.to_minor.
    for convert in (
        lambda: to_minor(Decimal("10.125")),
        lambda: to_minor_units(Decimal("10.125"), 2),
    ):
        with pytest.raises(AmountError):
            convert()
    assert to_minor_units(Decimal("10.12"), 2) == to_minor(Decimal("10.12")) == 1012


def test_round_minor_is_half_up() -> None:
    assert [round_minor(Decimal(v)) for v in ("1012.5", "1013.5", "-0.5", "0.49")] == [
        1013,
        1014,
        -1,
        0,
    ]
