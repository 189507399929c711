"""The guards on their own: which diffs refuse a feed, and at which thresholds."""

from __future__ import annotations

from typing import Any

import pytest

from repricer.config import SupplierSettings
from repricer.feeds.guards import check_guards
from repricer.feeds.staging import FeedDiff


def diff(**counts: int) -> FeedDiff:
    base = dict(
        staged=100, duplicates=0, known=100, missing=0, compared=100, big_moves=0, unmapped=0
    )
    return FeedDiff(duplicate_keys=[], **{**base, **counts})


CASES: list[tuple[str, dict[str, Any], dict[str, int], str | None]] = [
    ("clean", {}, {}, None),
    ("empty", {}, {"staged": 0}, "empty feed"),
    ("missing-at-limit", {}, {"missing": 20}, None),
    ("missing-above-limit", {}, {"missing": 21}, "21 of 100 known items (21.0%) are missing"),
    ("missing-incomplete-feed", {"complete": False}, {"missing": 90}, None),
    ("missing-first-sync", {}, {"known": 0, "missing": 0, "compared": 0}, None),
    ("moves-at-limit", {}, {"big_moves": 10}, None),
    ("moves-above-limit", {}, {"big_moves": 11}, "costs of 11 of 100 items (11.0%)"),
    ("moves-custom-share", {"max_cost_change_share": "25%"}, {"big_moves": 20}, None),
    (
        "missing-custom-share",
        {"max_missing_share": 0.05},
        {"missing": 6},
        "above max_missing_share 5%",
    ),
]


@pytest.mark.parametrize(
    ("settings", "counts", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_guards(settings: dict[str, Any], counts: dict[str, int], reason: str | None) -> None:
    supplier = SupplierSettings.model_validate(
        {"name": "s", "path": "f.yml", "format": "yml", **settings}
    )
    result = check_guards(supplier, diff(**counts), skipped=0)
    if reason is None:
        assert result is None
    else:
        assert result is not None and reason in result
