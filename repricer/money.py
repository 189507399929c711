"""Money: integer minor units with an ISO currency code inside, ``Decimal`` at the edges.

Prices are stored and computed as ``int`` kopecks/cents. Text from pages, feeds and
spreadsheets is parsed here (``parse_amount``), and shown here (``format_money``).
Nothing in repricer does arithmetic on float money.

There is one conversion rule: :func:`to_minor` is exact. An amount with more decimals
than its currency has (``10.125`` RUB) is ambiguous and refused, never rounded; so is
one beyond :data:`MAX_MINOR` (a barcode pasted into a price column). Where a computed
amount must be rounded to minor units, :func:`round_minor` is the one rounding rule
(half up, away from zero).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from price_parser import Price

from repricer._currencies import ALIASES, MINOR_DIGITS, SYMBOLS

NBSP = "\u00a0"
# The largest amount accepted anywhere, in minor units: 1 000 000 000.00 of a
# two-digit currency. Keeps int64 arithmetic and every column far from overflow.
MAX_MINOR = 10**11
# The largest stock count accepted (fits a 32-bit column).
MAX_STOCK = 10**9
# One number with exactly one separator: "0.001", "10,125", "1.299 руб."
_ONE_SEPARATOR = re.compile(r"(?<![\d.,])-?\d+[.,](\d+)(?![\d.,])")
_SPACES = re.compile(r"[\s\u00a0\u2009\u202f\u2007']+")


def minor_digits(currency: str) -> int:
    """Number of minor-unit digits of an ISO currency (2 unless listed otherwise)."""
    return MINOR_DIGITS.get(currency.upper(), 2)


def normalize_currency(text: str | None) -> str | None:
    """Map a symbol, word or code (``₽``, ``руб.``, ``RUR``, ``usd``) to an ISO code.

    Returns ``None`` for anything not recognised; an unknown 3-letter code is kept as is.
    """
    if not text:
        return None
    key = text.strip().lower()
    if key in ALIASES:
        return ALIASES[key]
    if key.rstrip(".") in ALIASES:
        return ALIASES[key.rstrip(".")]
    if re.fullmatch(r"[a-z]{3}", key):
        return key.upper()
    return None


def parse_amount(value: object, decimal_separator: str | None = None) -> Decimal | None:
    """Parse a money amount from a cell or page string, or pass a number through.

    Handles NBSP / thin-space / apostrophe thousands separators, decimal commas and
    currency symbols (``"1 299,90 руб."`` -> ``Decimal("1299.90")``). Returns ``None``
    for anything that is not one clear number, never a guess.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if value == value else None  # NaN is not a price
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    text = str(value).strip()
    if not text:
        return None
    compact = _SPACES.sub("", text)
    if re.fullmatch(r"-?\d+", compact):
        return Decimal(compact)
    if re.fullmatch(r"-?\d+[.,]\d{1,2}", compact) and decimal_separator is None:
        return Decimal(compact.replace(",", "."))
    if len(re.findall(r"\d+(?:[\s\u00a0\u2009\u202f.,']\d+)*", text)) > 1:
        return None  # two separate numbers: "2 x 1 299", "5 шт по 300"
    amount = Price.fromstring(text, decimal_separator=decimal_separator).amount
    return amount if amount is not None and amount.is_finite() else None


class AmountError(ValueError):
    """Raised by :func:`to_minor` / :func:`scale_exact` for an amount that cannot be
    stored exactly: more decimals than the currency has, beyond :data:`MAX_MINOR`, or
    not a finite number. The message says which, with the amount."""


def scale_exact(amount: Decimal, digits: int) -> int:
    """Major units -> int minor units with ``digits`` decimals, exactly, within
    ±:data:`MAX_MINOR`; raise :class:`AmountError` otherwise."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise AmountError(f"not an amount: {amount!r}")
    try:
        scaled = amount.scaleb(digits)
        whole = scaled.to_integral_value()
    except InvalidOperation:
        raise AmountError(f"amount {amount} is too large") from None
    if abs(whole) > MAX_MINOR:
        limit = Decimal(MAX_MINOR).scaleb(-digits)
        raise AmountError(f"amount {amount} is above the limit of {limit:,f}".replace(",", " "))
    if scaled != whole:
        raise AmountError(
            f"amount {amount} has more than {digits} decimal(s); refusing to round it"
        )
    return int(whole)


def refuse_ambiguous(text: str, currency: str) -> None:
    """Raise :class:`AmountError` when ``text`` holds one number with a single separator
    followed by more digits than ``currency`` has decimals (``"0.001"``, ``"10.125"``
    RUB): decimals that would have to be rounded, or a thousands separator? Not guessed."""
    match = _ONE_SEPARATOR.search(text)
    if match and len(match.group(1)) > minor_digits(currency):
        raise AmountError(
            f"{text.strip()!r} is ambiguous: more decimals than {currency} has, or a "
            "thousands separator; refusing to guess"
        )


def to_minor(amount: Decimal, currency: str = "RUB") -> int:
    """Decimal major units -> int minor units of ``currency``, exactly (see the module
    docstring); raise :class:`AmountError` for an ambiguous or out-of-range amount."""
    try:
        return scale_exact(amount, minor_digits(currency))
    except AmountError as exc:
        raise AmountError(f"{exc} ({currency})") from None


def round_minor(value: Decimal) -> int:
    """The one rounding rule for computed amounts: to a whole minor unit, half up
    (away from zero): ``Decimal("1012.5")`` -> 1013, ``Decimal("-0.5")`` -> -1."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_money(value: object, currency: str = "RUB") -> int | None:
    """``parse_amount`` then ``to_minor``; ``None`` when the value is not a number.
    An ambiguous or out-of-range amount raises :class:`AmountError`."""
    amount = parse_amount(value)
    if amount is None:
        return None
    return to_minor(amount, currency)


def from_minor(minor: int, currency: str = "RUB") -> Decimal:
    """int minor units -> Decimal major units (exact)."""
    return Decimal(minor).scaleb(-minor_digits(currency))


def format_money(minor: int | None, currency: str = "RUB", *, symbol: bool = True) -> str:
    """``129900, "RUB"`` -> ``"1 299 ₽"``; kopecks shown only when not zero
    (``"1 299,90 ₽"``). Thousands are separated by a no-break space."""
    if minor is None:
        return "—"
    digits = minor_digits(currency)
    sign = "−" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**digits) if digits else (abs(minor), 0)
    text = f"{whole:,}".replace(",", NBSP)
    if frac:
        text += "," + str(frac).zfill(digits)
    unit = SYMBOLS.get(currency, currency) if symbol else currency
    return f"{sign}{text}{NBSP}{unit}"
