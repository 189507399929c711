"""GTIN normalisation/checksum and model-code extraction."""

from __future__ import annotations

import pytest

from repricer.matching.codes import (
    display_gtin,
    extract_model_codes,
    gtin_check_digit,
    is_model_code,
    normalize_gtin,
    normalize_model,
)

GTIN_CASES = [
    ("4006381333931", "04006381333931", "ean-13"),
    ("96385074", "00000096385074", "ean-8"),
    ("012345678905", "00012345678905", "upc-a"),
    ("0012345678905", "00012345678905", "upc-a as ean-13"),
    ("00012345678905", "00012345678905", "gtin-14"),
    ("12345678905", "00012345678905", "upc-a that lost its leading zero"),
    ("0 12345 67890 5", "00012345678905", "spaced"),
    ("400-6381-333931", "04006381333931", "hyphenated"),
    (4006381333931.0, "04006381333931", "spreadsheet float"),
    ("4006381333932", None, "wrong check digit"),
    ("96385075", None, "ean-8 wrong check digit"),
    ("0000000000000", None, "all zeros"),
    ("1234567", None, "too short"),
    ("123456789012345", None, "too long"),
    ("40063813339x1", None, "not digits"),
    ("", None, "empty"),
    (None, None, "none"),
]


@pytest.mark.parametrize(("value", "expected", "case"), GTIN_CASES, ids=[c[2] for c in GTIN_CASES])
def test_normalize_gtin(value: object, expected: str | None, case: str) -> None:
    assert normalize_gtin(value) == expected


def test_upc_and_ean_forms_compare_equal() -> None:
    assert normalize_gtin("036000291452") == normalize_gtin("0036000291452")
    assert normalize_gtin("036000291452") != normalize_gtin("4006381333931")


def test_check_digit_and_display() -> None:
    assert gtin_check_digit("400638133393") == 1
    assert gtin_check_digit("9638507") == 4
    assert display_gtin("04006381333931") == "4006381333931"
    assert display_gtin("00000096385074") == "96385074"
    assert display_gtin("10012345678902") == "10012345678902"


CODE_CASES = [
    ("Sony Cyber-shot DSC-W120/P 7.2MP Digital Camera", ["dscw120p"], "slash and hyphen"),
    ("Zebra ZT-40604-10L label printer", ["zt4060410l"], "multi-part code"),
    ("canon fs100 digital camera 2699b001", ["fs100", "2699b001"], "two codes"),
    ("sigma 18-250mm zoom lens 880306", ["880306"], "digits-only code, not the range"),
    ("seagate 500gb drive 7200rpm 2007 edition", [], "units and a year are no codes"),
    ("belkin cushtop f8n044-slv silver", ["f8n044slv"], "suffix kept"),
    ("Чайник Bosch TWK-8611 1.7 л", ["twk8611"], "cyrillic text around a code"),
    ("", [], "empty"),
]


@pytest.mark.parametrize(("text", "expected", "case"), CODE_CASES, ids=[c[2] for c in CODE_CASES])
def test_extract_model_codes(text: str, expected: list[str], case: str) -> None:
    assert extract_model_codes(text) == expected


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("dscw120p", True),
        ("880306", True),
        ("500gb", False),
        ("2007", False),
        ("abc", False),
        ("kettle", False),
        ("12345678901234", False),
    ],
)
def test_is_model_code(token: str, expected: bool) -> None:
    assert is_model_code(token) is expected


def test_normalize_model() -> None:
    assert normalize_model("ZT-40604-10L") == "zt4060410l"
    assert normalize_model("DSC W120/P") == "dscw120p"
    assert normalize_model("") is None
