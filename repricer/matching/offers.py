"""One side of a pair, prepared once: normalised text, tokens, codes, numbers, price.

:func:`prepare_offer` does all per-record work, so scoring N x k pairs costs N + M
preparations and cheap per-pair comparisons.
"""

from __future__ import annotations

import gc
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from repricer.matching._variants import EDITIONS, PLATFORMS
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
    (a similarity feature only, never money arithmetic). ``numbers`` are the title's
    numbers written one way (``7.0`` and ``7`` alike), ``all_numbers`` those of title,
    model and description head; ``platforms`` and ``editions`` the title's platform and
    edition words, each as its canonical name (``macintosh`` -> ``mac``).
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
    all_numbers: frozenset[str]
    platforms: frozenset[str]
    editions: frozenset[str]
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


def normalize_number(text: str) -> str:
    """A number written one way: no leading zeros, no trailing decimal zeros
    (``"07"`` -> ``"7"``, ``"7.0"`` -> ``"7"``, ``"2,50"`` -> ``"2.5"``)."""
    text = text.replace(",", ".")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.lstrip("0") or "0"


def _numbers(text: str) -> frozenset[str]:
    return frozenset(normalize_number(n) for n in _NUMBER.findall(text))


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens (Latin, digits, Cyrillic)."""
    return _TOKEN.findall(text.lower())


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small acyclic objects
    (offers, pair tuples): each collection would otherwise walk every offer built so
    far, which made preparing 200,000 offers half again as slow."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def prepare_offers(records: Iterable[Mapping[str, object]]) -> list[Offer]:
    """:func:`prepare_offer` for each record, with the garbage collector paused."""
    with gc_paused():
        return [prepare_offer(record) for record in records]


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
    numbers = _numbers(title)
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
        numbers=numbers,
        all_numbers=numbers | _numbers(model + " " + description),
        platforms=frozenset(PLATFORMS[t] for t in tokens if t in PLATFORMS),
        editions=frozenset(EDITIONS[t] for t in tokens if t in EDITIONS),
        compact=compact_code(" ".join((title, model, description))),
        compact_title=compact_code(title + " " + model),
    )
