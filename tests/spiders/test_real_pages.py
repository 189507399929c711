"""Golden tests on real saved shop pages (72 pages from 30 shops, MIT-licensed dataset).

The pages and ground truth are read from ``../shared/pages-real`` when it sits beside
the checkout, else from the vendored copy in ``tests/fixtures/pages_real``. Expected
values come from the ground truth, with the documented corrections of
``corrections.json`` (the truth read a thousands dot as a decimal point) and the page's
currency from ``currencies.json``. Known gaps are strict xfails with the reason.
"""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from spiders.pages import extract_product

ROOT = Path(__file__).resolve().parents[2]
VENDORED = ROOT / "tests" / "fixtures" / "pages_real"
SHARED = next(
    (p for p in (ROOT.parent / "shared" / "pages-real", ROOT.parents[1] / "shared" / "pages-real")
     if (p / "ground-truth.json").is_file()),
    VENDORED,
)  # fmt: skip
TRUTH: dict[str, dict[str, Any]] = json.loads((SHARED / "ground-truth.json").read_text("utf-8"))
CORRECTIONS: dict[str, dict[str, str]] = json.loads(
    (VENDORED / "corrections.json").read_text("utf-8")
)
CURRENCIES: dict[str, str | None] = json.loads((VENDORED / "currencies.json").read_text("utf-8"))
STOCK = {"InStock": "in_stock", "OutOfStock": "out_of_stock"}

# Pages the extractor does not read right yet: page id prefix -> why.
PRICE_GAPS: dict[str, str] = {
    "b7af5919": "a price range of sizes ($3.499 - $4.059) and no variant chosen: no single price",
}
STOCK_GAPS: dict[str, str] = {
    "b475627f": (
        "doubtful truth: the JSON-LD says OutOfStock and the page shows the price as"
        " unavailable, with a stock e-mail alert in place of a buy button"
    ),
    "f48e9949": (
        "doubtful truth: the JSON-LD says OutOfStock for the colour the URL selects and"
        " every size is marked disabled; only a size of another colour can be ordered"
    ),
    "b4298c1b": "doubtful truth: the ad says NOT SOLD, as 5579758b does, which the truth calls InStock",
}


@cache
def _extract(key: str) -> Any:
    raw = gzip.decompress((SHARED / "html" / f"{key}.html.gz").read_bytes())
    return extract_product(raw, TRUTH[key]["url"])


def _cases(gaps: dict[str, str]) -> list[Any]:
    cases = []
    for key in sorted(TRUTH):
        reason = next((why for prefix, why in gaps.items() if key.startswith(prefix)), None)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        cases.append(pytest.param(key, id=key[:10], marks=marks))
    return cases


def test_every_page_has_a_vendored_copy() -> None:
    vendored = json.loads((VENDORED / "ground-truth.json").read_text("utf-8"))
    assert set(vendored) == set(TRUTH) and len(TRUTH) == 72
    assert all((VENDORED / "html" / f"{key}.html.gz").is_file() for key in TRUTH)
    assert set(CURRENCIES) == set(TRUTH) and set(CORRECTIONS) <= set(TRUTH)


@pytest.mark.parametrize("key", _cases(PRICE_GAPS))
def test_real_page_price(key: str) -> None:
    truth = TRUTH[key]
    result = _extract(key)
    if key in CORRECTIONS:
        wanted = [Decimal(CORRECTIONS[key]["price"])]
    else:
        wanted = [Decimal(v.strip()) for v in truth.get("price") or []]
    if not wanted:
        assert result.price is None, result
        return
    assert result.price in wanted, result
    assert result.currency == CURRENCIES[key], result


@pytest.mark.parametrize("key", _cases(STOCK_GAPS))
def test_real_page_availability(key: str) -> None:
    wanted = {STOCK[v] for v in TRUTH[key].get("availability") or []}
    assert _extract(key).availability in (wanted or {"unknown"}), _extract(key)


def test_corrected_truth_is_the_published_value_misread() -> None:
    """Every correction is the published value with its dot read as a thousands
    separator, so a correction cannot move the truth anywhere else."""
    for key, fix in CORRECTIONS.items():
        published = TRUTH[key]["price"][0].strip()
        whole, _dot, frac = published.partition(".")
        assert Decimal(fix["price"]) == Decimal(whole + frac.ljust(3, "0")), key
        assert fix["reason"], key
