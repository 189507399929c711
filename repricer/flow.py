"""The one reprice -> review -> push path, used by ``repricer reprice --apply``, the
scheduler's ``reprice`` job and the demo.

:func:`apply_repricing` decides prices, then stores the applied run, supersedes the
unpushed changes of earlier runs for the same products and auto-approves the band in
ONE transaction, serialised with every other apply by a transaction lock
(:func:`repricer.lease.transaction_lock`). A crash anywhere leaves the run either fully
applied and reviewed, or absent with the earlier decisions untouched; two applies at
once never leave two runs with live changes for the same product. Pushing is
:func:`repricer.storefront.push_changes` (one push per database, by lease).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine

from repricer.config import Settings
from repricer.faults import fault_point
from repricer.lease import transaction_lock
from repricer.money import format_money
from repricer.pricing import RepricingResult, reprice
from repricer.pricing.store import StoreHooks
from repricer.review import APPLY_LOCK, review_new_changes, supersede_for_run
from repricer.run_counts import run_counts


@dataclass(frozen=True)
class AppliedRun:
    """A stored, reviewed run: the repricing result, how many changes were
    auto-approved and the pricing currency (of the summary's margin impact)."""

    result: RepricingResult
    approved: int
    currency: str

    @property
    def run_id(self) -> int:
        return self.result.run_id

    def describe(self) -> str:
        return describe_repricing(
            self.result.run_id, self.result.summary, self.approved, self.currency
        )


def apply_repricing(
    settings: Settings,
    engine: Engine,
    *,
    skus: list[str] | None = None,
    rules_dir: Path | None = None,
    now: datetime | None = None,
) -> AppliedRun:
    """Reprice and apply: see the module docstring. Raises what
    :func:`repricer.pricing.reprice` raises; nothing is stored then."""
    approved: list[int] = []

    def first(conn: Connection) -> None:
        transaction_lock(conn, APPLY_LOCK)
        fault_point("apply:locked")

    def review(changes: pd.DataFrame, run_status: str) -> pd.DataFrame:
        reviewed, count = review_new_changes(settings, changes, run_status, now)
        approved.append(count)
        return reviewed

    def last(conn: Connection, run_id: int) -> None:
        fault_point("apply:stored")
        supersede_for_run(conn, run_id)
        fault_point("apply:reviewed")

    result = reprice(
        settings,
        engine,
        apply=True,
        skus=skus,
        rules_dir=rules_dir,
        now=now,
        hooks=StoreHooks(first, review, last),
    )
    fault_point("apply:committed")
    return AppliedRun(result, approved[0], settings.pricing.currency)


def describe_repricing(run_id: int, summary: dict[str, Any], approved: int, currency: str) -> str:
    """``repricing run 3: 8 products, 3 up, 2 down, ...; margin impact −120 ₽ per unit;
    5 auto-approved``."""
    counts = run_counts(summary).describe()
    impact = format_money(summary.get("margin_impact", 0), currency)
    breaker = f"; breaker: {summary['breaker']}" if summary.get("breaker") else ""
    return (
        f"repricing run {run_id}: {counts}; margin impact {impact} per unit; "
        f"{approved} auto-approved{breaker}"
    )
