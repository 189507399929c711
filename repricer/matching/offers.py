"""One side of a pair, prepared once: normalised text, tokens, codes, numbers, price.

:func:`prepare_offer` does all per-record work, so scoring N x k pairs costs N + M
preparations and cheap per-pair comparisons.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from repricer.matching.codes import compact_code, extract_model_codes, normalize_gtin

FIELDS = ("title", "brand", "category", "model", "description", "price")
_DESCRIPTION_CHARS = 400  # the head of a description carries the name and codes; the rest is prose
_TOKEN = re.compile(r"[a-z0-9\u0400-\u04ff]+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_PRICE = re.compile(r"\d+(?:[.,]\d+)?")
_BRAND_NOISE = re.compile(r"\b(inc|corp|corporation|co|ltd|llc|software|electronics|usa)\b\.?")


@dataclass(frozen=True, slots=True)
class Offer:
    """A product offer ready for comparison; every text field is lower case.

    ``codes`` are model codes from the title and model field, ``desc_codes`` those
    only in the description head; ``compact`` is title + model + description head in
    letters and digits only (for "code appears in the other side" checks);
    ``price`` is a float in the offer's own currency unit, or NaN when unknown
    (a similarity feature only, never money arithmetic).
    """

    title: str
    brand: str
    category: str
    model: str
    description: str
    price: float
    gtin: str | None
    tokens: frozenset[str]
    all_tokens: frozenset[str]
    codes: frozenset[str]
    desc_codes: frozenset[str]
    numbers: frozenset[str]
    compact: str
    compact_title: str


def _text(record: Mapping[str, object], key: str) -> str:
    value = record.get(key)
    return " ".join(str(value).lower().split()) if value is not None else ""


def parse_price(value: str) -> float:
    """A price string as a float, NaN when absent, zero or unreadable."""
    match = _PRICE.search(value.replace(" ", "").replace("\u00a0", ""))
    if not match:
        return math.nan
    number = float(match.group(0).replace(",", "."))
    return number if number > 0 else math.nan


def normalize_brand(value: str) -> str:
    """A brand without legal/sector suffixes and punctuation (``"Intuit Inc."`` -> ``intuit``)."""
    return " ".join(_TOKEN.findall(_BRAND_NOISE.sub(" ", value.lower())))


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens (Latin, digits, Cyrillic)."""
    return _TOKEN.findall(text.lower())


def prepare_offer(record: Mapping[str, object]) -> Offer:
    """Build an :class:`Offer` from a mapping with any of :data:`FIELDS` (and ``gtin``)."""
    title = _text(record, "title")
    model = _text(record, "model")
    description = _text(record, "description")[:_DESCRIPTION_CHARS]
    brand = normalize_brand(_text(record, "brand"))
    tokens = frozenset(tokenize(title))
    codes = set(extract_model_codes(title))
    model_code = compact_code(model)
    if model_code:
        codes.add(model_code)
    desc_codes = frozenset(extract_model_codes(description)) - codes
    return Offer(
        title=title,
        brand=brand,
        category=_text(record, "category"),
        model=model_code,
        description=description,
        price=parse_price(_text(record, "price")),
        gtin=normalize_gtin(record.get("gtin")),
        tokens=tokens,
        all_tokens=tokens | frozenset(tokenize(" ".join((brand, model, description)))),
        codes=frozenset(codes),
        desc_codes=desc_codes,
        numbers=frozenset(_NUMBER.findall(title)),
        compact=compact_code(" ".join((title, model, description))),
        compact_title=compact_code(title + " " + model),
    )
