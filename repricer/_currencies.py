"""Currency data tables: symbols and words seen on pages and in feeds, mapped to ISO 4217.

Kept apart from logic (repricer.money) so it can grow without touching code.
Keys are lower-case; matching strips a trailing dot only where listed here.
"""

from __future__ import annotations

# ISO code -> number of minor-unit digits (kopecks, cents). Missing codes default to 2.
MINOR_DIGITS: dict[str, int] = {
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "CLP": 0,
    "ISK": 0,
    "HUF": 2,
    "KWD": 3,
    "BHD": 3,
}

# Display symbol per ISO code, used by repricer.money.format_money.
SYMBOLS: dict[str, str] = {
    "RUB": "₽",
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "UAH": "₴",
    "KZT": "₸",
    "BYN": "Br",
    "CZK": "Kč",
    "PLN": "zł",
    "JPY": "¥",
    "CNY": "¥",
    "TRY": "₺",
    "INR": "₹",
}

# What people write -> ISO code. Lower-case keys.
ALIASES: dict[str, str] = {
    "₽": "RUB",
    "руб": "RUB",
    "руб.": "RUB",
    "рублей": "RUB",
    "рубля": "RUB",
    "рубль": "RUB",
    "р": "RUB",
    "р.": "RUB",
    "rub": "RUB",
    "rur": "RUB",  # YML feeds still use the pre-1998 code
    "$": "USD",
    "us$": "USD",
    "usd": "USD",
    "€": "EUR",
    "eur": "EUR",
    "£": "GBP",
    "gbp": "GBP",
    "₴": "UAH",
    "грн": "UAH",
    "грн.": "UAH",
    "uah": "UAH",
    "₸": "KZT",
    "тг": "KZT",
    "тг.": "KZT",
    "тенге": "KZT",
    "kzt": "KZT",
    "br": "BYN",
    "бел. руб.": "BYN",
    "byn": "BYN",
    "kč": "CZK",
    "czk": "CZK",
    "zł": "PLN",
    "zl": "PLN",
    "pln": "PLN",
    "¥": "JPY",
    "jpy": "JPY",
    "cny": "CNY",
    "₺": "TRY",
    "try": "TRY",
    "₹": "INR",
    "inr": "INR",
    # Signs and words of shop pages in other countries (ISO codes pass through as is).
    "kn": "HRK",
    "lei": "RON",
    "leu": "RON",
    "лв": "BGN",
    "лв.": "BGN",
    "ft": "HUF",
    "ft.": "HUF",
    "₩": "KRW",
    "원": "KRW",
    "円": "JPY",
    "nt$": "TWD",
    "nt": "TWD",
    "r$": "BRL",
    "c$": "CAD",
    "ca$": "CAD",
    "a$": "AUD",
    "au$": "AUD",
    "nz$": "NZD",
    "hk$": "HKD",
    "s$": "SGD",
    "fr.": "CHF",
    "₪": "ILS",
    "₨": "PKR",
    "₫": "VND",
    "฿": "THB",
    "₱": "PHP",
}
