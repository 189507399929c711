"""Product identifiers: GTIN/EAN/UPC normalisation and model-code extraction.

A GTIN is compared as 14 digits (GTIN-14, zero-padded), so an EAN-13 ``0012345678905``,
its UPC-A ``012345678905`` and a spreadsheet value that lost its leading zeros
(``12345678905``) are the same code. A value whose check digit is wrong is no GTIN.

A model code is a manufacturer's part number such as ``DSC-W120/P`` or ``ZT-40604-10L``;
it is compared in a compact form: lower case, letters and digits only (``dscw120p``).
"""

from __future__ import annotations

import re

from repricer.matching._unit_suffixes import UNIT_SUFFIXES

_NON_DIGITS = re.compile(r"[\s\-.]")
_GTIN_LENGTHS = range(8, 15)
_CODE_TOKEN = re.compile(r"[a-z0-9]+(?:[\-/.][a-z0-9]+)*", re.IGNORECASE)
_NON_ALNUM = re.compile(r"[^a-z0-9]")
_UNIT_TOKEN = re.compile(r"^\d+(?:[.,]\d+)?(?:" + "|".join(UNIT_SUFFIXES) + r")$")
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_DIGIT = re.compile(r"\d")
_LETTER = re.compile(r"[a-z]")


def gtin_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for ``body`` (all digits but the last)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def normalize_gtin(value: object) -> str | None:
    """``value`` as a 14-digit GTIN, or None when it is no valid GTIN.

    Spaces, hyphens and dots are ignored; 8 to 14 digits are accepted (EAN-8, UPC-A,
    EAN-13, GTIN-14, and those with leading zeros lost); the check digit must hold and
    an all-zero code is refused.
    """
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a spreadsheet cell holding 4006381333931.0
    text = _NON_DIGITS.sub("", str(value).strip())
    if not text.isdigit() or len(text) not in _GTIN_LENGTHS:
        return None
    padded = text.zfill(14)
    if padded.strip("0") == "" or gtin_check_digit(padded[:-1]) != int(padded[-1]):
        return None
    return padded


def display_gtin(gtin14: str) -> str:
    """A normalised GTIN as people write it: EAN-13 when it fits, else GTIN-14;
    an EAN-8 keeps its 8 digits."""
    if gtin14.startswith("000000"):
        return gtin14[6:]
    return gtin14[1:] if gtin14.startswith("0") else gtin14


def compact_code(value: str) -> str:
    """A model code in its compared form: lower case letters and digits only."""
    return _NON_ALNUM.sub("", value.lower())


def is_model_code(token: str) -> bool:
    """Whether a (compacted) token looks like a part number rather than a word,
    a quantity (``500gb``, ``18mm``) or a year.

    Codes mix letters and digits (``dscw120p``) and are at least 4 characters long,
    or are 5+ digits (``880306``) that are not a GTIN-length number.
    """
    if len(token) < 4 or not _DIGIT.search(token):
        return False
    if token.isdigit():
        return 5 <= len(token) <= 10
    return bool(_LETTER.search(token)) and not _UNIT_TOKEN.match(token) and not _YEAR.match(token)


def extract_model_codes(text: str | None) -> list[str]:
    """Model codes in free text, compacted, in order of appearance, without repeats.

    ``"Sony Cyber-shot DSC-W120/P 7.2MP"`` gives ``["dscw120p"]``; hyphenated codes
    keep their parts together (``zt-40604-10l`` -> ``zt4060410l``).
    """
    if not text:
        return []
    found: dict[str, None] = {}
    for match in _CODE_TOKEN.finditer(text):
        raw = match.group(0)
        if not _DIGIT.search(raw):
            continue  # a plain word: the common case, skipped cheaply
        for candidate in (raw, *re.split(r"[\-/.]", raw)) if "-" in raw or "/" in raw else (raw,):
            code = compact_code(candidate)
            if is_model_code(code):
                found.setdefault(code, None)
                break
    return list(found)


def normalize_model(value: str | None) -> str | None:
    """A model field (``"ZT-40604-10L"``) in compact form, or None when empty."""
    if not value:
        return None
    code = compact_code(value)
    return code or None
