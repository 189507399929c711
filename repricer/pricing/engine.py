"""A repricing run: load rules and inputs, decide, trip the breaker, store, summarise.

:func:`reprice` is the library entry point (the CLI, the scheduler and the demo call it).
A dry run is stored with status ``dry_run`` and is never reviewed or pushed; with
``apply=True`` the run is ``applied`` (or ``needs_approval`` when the circuit breaker
tripped); :func:`repricer.flow.apply_repricing` applies a run and reviews it atomically.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import Engine

from repricer.config import PricingSettings, Settings
from repricer.exceptions import NotFoundError, PricingError, RulesError
from repricer.pricing.codes import CODE, STATUS_NAMES, Status
from repricer.pricing.core import evaluate
from repricer.pricing.decisions import Decisions, decision_frame
from repricer.pricing.inputs import load_inputs
from repricer.pricing.rules import RuleSet, load_rules
from repricer.pricing.store import (
    PreviousRun,
    RunRecord,
    StoreHooks,
    previous_decisions,
    store_run,
)


@dataclass(frozen=True)
class RepricingResult:
    """``columns`` holds every product's decision as typed columns; ``stored`` the
    decisions the run stored (changes and skips; ``DECISION_COLUMNS``, money Int64
    minor units), with their explanations left empty: :meth:`explained` renders them
    for the rows shown, :attr:`changes` for all; ``summary`` the counts, average change
    and margin impact; ``diff`` the products decided differently from the previous run."""

    run_id: int
    columns: Decisions
    stored: pd.DataFrame
    summary: dict[str, Any]
    breaker: str | None = None
    previous_run_id: int | None = None
    diff: pd.DataFrame = field(default_factory=pd.DataFrame)

    @functools.cached_property
    def decisions(self) -> pd.DataFrame:
        """Every product's decision as a table, explained (rendered on first use)."""
        return decision_frame(self.columns)

    @functools.cached_property
    def changes(self) -> pd.DataFrame:
        """The stored decisions, explained (rendered on first use)."""
        return self.explained(self.stored)

    def explained(self, rows: pd.DataFrame) -> pd.DataFrame:
        """``rows`` (decisions of this run, with a ``product_id`` column) with their
        explanations rendered: a run renders no text until someone looks."""
        at = pd.Index(self.columns.product_id).get_indexer(pd.Index(rows["product_id"]))
        if (at < 0).any():
            raise ValueError("rows of products this run did not decide")
        texts = decision_frame(self.columns.take(at))["explanation"].to_numpy()
        return rows.assign(explanation=texts)


def reprice(
    settings: Settings,
    engine: Engine,
    *,
    apply: bool = False,
    skus: list[str] | None = None,
    rules_dir: Path | None = None,
    now: datetime | None = None,
    hooks: StoreHooks | None = None,
) -> RepricingResult:
    """Decide a price for every product (or the given SKUs) and store the run (``hooks``
    run inside the storing transaction: see :func:`repricer.flow.apply_repricing`, the
    way to apply a run).

    Raises ``RulesError`` for invalid rule files, ``NotFoundError`` for an unknown SKU
    and ``PricingError`` for an empty catalog.
    """
    started = datetime.now(UTC)
    now = now or started
    directory = rules_dir or settings.pricing.rules_dir
    ruleset = load_rules(directory)
    check_competitor_names(ruleset, settings)
    max_age = timedelta(seconds=max(rule.stale_after for rule in ruleset.rules))
    with engine.connect() as conn:
        inputs = load_inputs(conn, settings, now=now, max_age=max_age, skus=skus)
    _check_products(inputs.products, skus)
    currency = settings.pricing.currency
    decisions = evaluate(
        inputs.products, inputs.observations, ruleset.rules, now=now, currency=currency
    )
    breaker = check_breaker(decisions, settings.pricing)
    if breaker:
        decisions = trip_breaker(decisions)
    summary = summarise(decisions, breaker)
    stored = {
        **summary,
        "now": now.isoformat(),
        "currency": currency,
        "rules": ruleset.texts,
        "skus": sorted(skus) if skus else None,
    }
    status = ("needs_approval" if breaker else "applied") if apply else "dry_run"
    run = RunRecord(
        status, started, datetime.now(UTC), str(directory), ruleset.digest, breaker, stored
    )
    with engine.begin() as conn:
        if hooks is not None:
            hooks.first(conn)
        saved = store_run(conn, run, decisions, inputs, hooks.review if hooks else None)
        if hooks is not None:
            hooks.last(conn, saved.run_id)
        previous = previous_decisions(conn, saved.run_id)
    diff = diff_decisions(decisions, previous) if previous.run_id is not None else _empty_diff()
    return RepricingResult(
        saved.run_id, decisions, saved.changes, summary, breaker, previous.run_id, diff
    )


def check_competitor_names(ruleset: RuleSet, settings: Settings) -> None:
    """A rule naming a competitor that is not configured is a typo that would silently
    price without it: raise RulesError naming the file, rule and key (when competitors
    are configured at all)."""
    known = {c.name for c in settings.competitors}
    if not known:
        return
    for rule, path in zip(ruleset.rules, ruleset.sources, strict=True):
        for key, names in (
            ("competitor", [rule.competitor] if rule.competitor else []),
            ("competitors", rule.competitors or []),
        ):
            unknown = [name for name in names if name not in known]
            if unknown:
                raise RulesError(
                    f"unknown competitor {unknown[0]!r} (not in the config's [[competitors]])",
                    path=path,
                    rule=rule.name,
                    key=key,
                )


def _check_products(products: pd.DataFrame, skus: list[str] | None) -> None:
    if skus:
        missing = sorted(set(skus) - set(products["sku"]))
        if missing:
            raise NotFoundError(f"no product with SKU {missing[0]!r} in the catalog")
    if products.empty:
        raise PricingError("the catalog is empty (run `repricer catalog import` first)")


def _fraction(new: npt.NDArray[Any], old: npt.NDArray[Any]) -> npt.NDArray[Any]:
    fraction: npt.NDArray[Any] = np.abs(new - old).astype(np.float64) / old.astype(np.float64)
    return fraction


def check_breaker(decisions: Decisions, limits: PricingSettings) -> str | None:
    """Why the whole run needs approval, or None: too large a share of the priced
    products would change, or the median change of those that change is too large."""
    d = decisions
    priced = int(np.count_nonzero(d.status != Status.SKIPPED))
    changing = d.changing() & d.has_old & (d.old > 0)
    count = int(np.count_nonzero(changing))
    if priced == 0 or count == 0:
        return None
    share = Decimal(count) / Decimal(priced)
    if share > limits.max_changed_share:
        return f"{count} of {priced} products would change ({share:.0%} > {limits.max_changed_share:.0%})"
    median = float(np.median(_fraction(d.new[changing], d.old[changing])))
    if median > float(limits.max_median_change):
        return f"median change {median:.1%} > {float(limits.max_median_change):.1%}"
    return None


def trip_breaker(decisions: Decisions) -> Decisions:
    """Every proposed change needs approval, flagged ``breaker``."""
    tripped = decisions.status == Status.PROPOSED
    status = np.where(tripped, CODE(Status.NEEDS_APPROVAL), decisions.status)
    return dataclasses.replace(decisions, status=status, breaker=decisions.breaker | tripped)


def summarise(decisions: Decisions, breaker: str | None = None) -> dict[str, Any]:
    """Counts by direction and status, average change (%) and margin impact (minor units,
    one unit of each product with a known cost)."""
    d = decisions
    changing = d.changing() & d.has_new & d.has_old
    diff = np.where(changing, d.new - d.old, 0)
    moved = changing & (d.old > 0)
    average = (
        float(np.mean(_fraction(d.new[moved], d.old[moved]) * np.sign(diff[moved])) * 100)
        if moved.any()
        else 0.0
    )
    counts = np.bincount(d.status, minlength=len(Status))
    return {
        "products": len(d),
        "up": int(np.count_nonzero(diff > 0)),
        "down": int(np.count_nonzero(diff < 0)),
        "unchanged": int(counts[Status.UNCHANGED]),
        "proposed": int(counts[Status.PROPOSED]),
        "needs_approval": int(counts[Status.NEEDS_APPROVAL]),
        "skipped": int(counts[Status.SKIPPED]),
        "average_change_pct": round(average, 2),
        "margin_impact": int(diff[changing & d.has_cost].sum()),
        "breaker": breaker,
    }


DIFF_COLUMNS = ["sku", "previous_price", "new_price", "status"]


def _empty_diff() -> pd.DataFrame:
    return pd.DataFrame(columns=DIFF_COLUMNS)


def diff_decisions(decisions: Decisions, previous: PreviousRun) -> pd.DataFrame:
    """Products decided differently from the previous run. A run stores only changes
    and skips, so a product the previous run decided but did not store kept its price
    then (``previous_price`` None) and differs now only if this run changes its price;
    a product the previous run did not decide at all (outside its SKUs) differs."""
    d, before = decisions, previous.rows
    found = pd.Index(d.product_id).get_indexer(pd.Index(before["product_id"]))
    known = found >= 0
    before_rows = found[known]
    outside = np.zeros(len(d), dtype=bool)
    if previous.skus is not None:
        outside = ~np.isin(d.sku, np.array(previous.skus, dtype=object))
    rows = np.union1d(np.flatnonzero(d.changing() | outside), before_rows)
    prev = pd.Series(pd.NA, index=rows, dtype="Int64")
    prev[before_rows] = before["new_price"].astype("Int64").to_numpy()[known]
    new = pd.Series(pd.arrays.IntegerArray(d.new[rows], ~d.has_new[rows]), index=rows)
    same = (prev == new).fillna(False) | (prev.isna() & new.isna())
    stored_before = np.isin(rows, before_rows)
    differs = np.where(stored_before, ~same.to_numpy(dtype=bool), True)
    chosen = rows[differs]
    return pd.DataFrame(
        {
            "sku": d.sku[chosen],
            "previous_price": prev[chosen].array,
            "new_price": new[chosen].array,
            "status": STATUS_NAMES[d.status[chosen]],
        },
        columns=DIFF_COLUMNS,
    )
