"""The summary block of a run report: the run's counts as stored with the run
(:mod:`repricer.run_counts`, the same everywhere the run is shown), then figures computed
from the changes table.

Margins are per unit (one of each product), in the report currency, over the products
with a known cost; "after" means with every change of the run that is not rejected,
expired or skipped. Market shares are over the products with a competitor price.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from repricer.run_counts import RunCounts

AT_MARKET_TOLERANCE_PCT = 0.5  # within ±0.5% of the cheapest competitor counts as "at market"


@dataclass(frozen=True)
class Summary:
    """Counts, then money in minor units of ``currency``, then percentages (floats).
    ``counts`` are the run's decisions; ``statuses`` what its stored changes are now."""

    currency: str
    counts: RunCounts
    statuses: dict[str, int]
    avg_change_pct: float | None
    margin_before: int
    margin_after: int
    margin_impact: int
    margin_impact_pct: float | None
    with_market: int
    cheaper_before_pct: float | None
    dearer_before_pct: float | None
    cheaper_after_pct: float | None
    dearer_after_pct: float | None

    def rows(self) -> list[tuple[str, Any, str]]:
        """(label, value, kind) for tabular writers; kind is count|money|percent."""
        return [
            ("Products in run", self.counts.products, "count"),
            ("Prices up", self.counts.up, "count"),
            ("Prices down", self.counts.down, "count"),
            ("Unchanged", self.counts.unchanged, "count"),
            ("Needing approval", self.counts.needs_approval, "count"),
            ("Skipped", self.counts.skipped, "count"),
            ("Average change", self.avg_change_pct, "percent"),
            ("Margin before (per unit)", self.margin_before, "money"),
            ("Margin after (per unit)", self.margin_after, "money"),
            ("Margin impact", self.margin_impact, "money"),
            ("Margin impact %", self.margin_impact_pct, "percent"),
            ("Products with a market price", self.with_market, "count"),
            ("Cheaper than market, before", self.cheaper_before_pct, "percent"),
            ("Cheaper than market, after", self.cheaper_after_pct, "percent"),
            ("Dearer than market, before", self.dearer_before_pct, "percent"),
            ("Dearer than market, after", self.dearer_after_pct, "percent"),
        ]


def summarise(changes: pd.DataFrame, currency: str, counts: RunCounts) -> Summary:
    """Summary of a changes table built by :func:`repricer.reports.build.load_changes`
    and the run's stored ``counts``."""
    moved = changes["change"].fillna(0)
    before, after = _margins(changes[changes["currency"] == currency])
    position = changes.dropna(subset=["position_before_pct", "position_after_pct"])
    cheaper_before, dearer_before = _shares(position["position_before_pct"])
    cheaper_after, dearer_after = _shares(position["position_after_pct"])
    changed_pct = changes.loc[moved != 0, "change_pct"].dropna()
    return Summary(
        currency=currency,
        counts=counts,
        statuses={str(k): int(v) for k, v in changes["status"].value_counts().sort_index().items()},
        avg_change_pct=_mean(changed_pct),
        margin_before=before,
        margin_after=after,
        margin_impact=after - before,
        margin_impact_pct=(after - before) * 100 / before if before else None,
        with_market=len(position),
        cheaper_before_pct=cheaper_before,
        dearer_before_pct=dearer_before,
        cheaper_after_pct=cheaper_after,
        dearer_after_pct=dearer_after,
    )


def _margins(changes: pd.DataFrame) -> tuple[int, int]:
    known = changes.dropna(subset=["margin_before", "margin_after"])
    return int(known["margin_before"].sum()), int(known["margin_after"].sum())


def _shares(position_pct: pd.Series[Any]) -> tuple[float | None, float | None]:
    if position_pct.empty:
        return None, None
    cheaper = (position_pct < -AT_MARKET_TOLERANCE_PCT).mean() * 100
    dearer = (position_pct > AT_MARKET_TOLERANCE_PCT).mean() * 100
    return float(cheaper), float(dearer)


def _mean(values: pd.Series[Any]) -> float | None:
    return float(values.mean()) if not values.empty else None
