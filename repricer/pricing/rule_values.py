"""Values written in rule files: shares, amounts, adjustments, durations, endings.

Shares are kept as integers scaled by :data:`DEN` (``"12%"`` -> 120000) so that the
engine computes in int64 only. Amounts are ``Decimal`` major units until the engine
knows the currency. Each parser raises ``ValueError`` with the accepted forms.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from repricer.durations_percentages import parse_duration, parse_fraction
from repricer.money import MAX_MINOR, normalize_currency, parse_amount, scale_exact

DEN = 1_000_000  # shares are exact to 0.0001%
# Amounts in rule files are major units of a currency not known yet: bounded so that
# they fit repricer.money.MAX_MINOR in a two-decimal currency.
MAX_AMOUNT = MAX_MINOR // 100
_OFF = {"none", "off", "no", "false"}
_ROUNDING = re.compile(r"^(none|whole|ends_in_9|ends_in_90|ends_in_99|step_(\d+))$")


class Adjust(BaseModel):
    """A signed percentage (``share`` x DEN) or a signed amount (major units)."""

    model_config = ConfigDict(frozen=True)

    share: int = 0
    amount: Decimal = Decimal(0)


def parse_share(value: object) -> int:
    """``"12%"`` / ``0.12`` -> 120000 (x DEN); at most 4 decimals of a percent, >= 0."""
    fraction = parse_fraction(value)
    scaled = fraction * DEN
    if scaled != scaled.to_integral_value() or scaled < 0:
        raise ValueError(
            f'not a percentage >= 0 with at most 4 decimals: {value!r} (use e.g. "12%")'
        )
    return int(scaled)


def parse_amount_value(value: object) -> Decimal:
    """``50``, ``"50"``, ``"50 RUB"``, ``"1 299,90 ₽"`` -> Decimal major units (>= 0)."""
    if isinstance(value, bool):
        raise ValueError(f"not an amount: {value!r}")
    if isinstance(value, str):
        _check_currency(value)
    amount = parse_amount(value)
    if amount is None or amount < 0:
        raise ValueError(f'not an amount: {value!r} (use e.g. 50 or "50 RUB")')
    if amount > MAX_AMOUNT:
        raise ValueError(f"amount {amount} is above the limit of {MAX_AMOUNT:,}".replace(",", " "))
    return amount


def parse_adjust(value: object) -> Adjust:
    """``"1%"``, ``"-2%"``, ``"+50 RUB"``, ``50`` -> an :class:`Adjust` (sign kept)."""
    if isinstance(value, Adjust):
        return value
    if isinstance(value, bool):
        raise ValueError(f"not a percentage or amount: {value!r}")
    text = str(value).strip()
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-").strip()
    try:
        if body.endswith("%"):
            return Adjust(share=sign * parse_share(body))
        return Adjust(amount=sign * parse_amount_value(body))
    except ValueError:
        raise ValueError(
            f'not a percentage or amount: {value!r} (use e.g. "1%" or "50 RUB")'
        ) from None


def parse_seconds(value: object) -> int:
    """A duration (``"48h"``, ``"30m"``, seconds) -> whole seconds."""
    return int(parse_duration(value).total_seconds())


def parse_rounding(value: object) -> str:
    """``none``, ``whole``, ``ends_in_9``, ``ends_in_90``, ``ends_in_99`` or ``step_<N>``."""
    text = str(value).strip().lower()
    match = _ROUNDING.match(text)
    if not match or (match.group(2) is not None and int(match.group(2)) == 0):
        raise ValueError(
            f"not a rounding: {value!r} (use none, whole, ends_in_9, ends_in_90, ends_in_99, step_10)"
        )
    return text


def parse_optional(parser: Callable[[object], Any]) -> Callable[[object], Any]:
    """Wrap a parser so ``"none"``/``"off"``/``false`` mean None (the guard is off)."""

    def parse(value: object) -> Any:
        if (
            value is None
            or value is False
            or (isinstance(value, str) and value.strip().lower() in _OFF)
        ):
            return None
        return parser(value)

    return parse


def rounding_step(rounding: str, digits: int) -> tuple[int, int]:
    """(modulus, remainder) in minor units: prices p with ``p % modulus == remainder``."""
    unit = 10**digits
    if rounding == "whole":
        return unit, 0
    if rounding == "ends_in_9":
        return 10 * unit, 9 * unit
    if rounding == "ends_in_90":
        return unit, 90 * unit // 100
    if rounding == "ends_in_99":
        return unit, 99 * unit // 100
    if rounding.startswith("step_"):
        return int(rounding.removeprefix("step_")) * unit, 0
    return 1, 0


def _check_currency(text: str) -> None:
    letters = re.sub(r"[\d\s.,+\-\u00a0]", "", text)
    if letters and normalize_currency(letters) is None:
        raise ValueError(f"unknown currency in amount: {text!r}")


def to_minor_units(amount: Decimal, digits: int) -> int:
    """Major-unit Decimal -> int minor units: :func:`repricer.money.scale_exact`
    (exact, bounded; AmountError, a ValueError, otherwise)."""
    return scale_exact(amount, digits)
