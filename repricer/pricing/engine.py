"""A repricing run: load rules and inputs, decide, trip the breaker, store, summarise.

:func:`reprice` is the library entry point (the CLI, the scheduler and the demo call it).
A dry run is stored with status ``dry_run`` and is never reviewed or pushed; with
``apply=True`` the run is ``applied`` (or ``needs_approval`` when the circuit breaker
tripped); :func:`repricer.flow.apply_repricing` applies a run and reviews it atomically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from repricer.config import PricingSettings, Settings
from repricer.exceptions import NotFoundError, PricingError, RulesError
from repricer.pricing.core import decide
from repricer.pricing.inputs import load_inputs
from repricer.pricing.rules import RuleSet, load_rules
from repricer.pricing.store import RunRecord, StoreHooks, previous_decisions, store_run

CHANGING = ("proposed", "needs_approval")


@dataclass(frozen=True)
class RepricingResult:
    """``decisions`` has one row per product (see ``core.DECISION_COLUMNS``; money Int64
    minor units); ``summary`` the counts, average change and margin impact."""

    run_id: int
    decisions: pd.DataFrame
    summary: dict[str, Any]
    breaker: str | None = None
    previous_run_id: int | None = None
    diff: pd.DataFrame = field(default_factory=pd.DataFrame)


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
    decisions = decide(
        inputs.products, inputs.observations, ruleset.rules, now=now, currency=currency
    )
    breaker = check_breaker(decisions, settings.pricing)
    if breaker:
        decisions = trip_breaker(decisions)
    summary = summarise(decisions, breaker)
    stored = {**summary, "now": now.isoformat(), "currency": currency, "rules": ruleset.texts}
    status = ("needs_approval" if breaker else "applied") if apply else "dry_run"
    run = RunRecord(
        status, started, datetime.now(UTC), str(directory), ruleset.digest, breaker, stored
    )
    run_id = store_run(engine, run, decisions, inputs.products, inputs.observations, hooks)
    with engine.connect() as conn:
        previous_id, previous = previous_decisions(conn, run_id)
    return RepricingResult(
        run_id, decisions, summary, breaker, previous_id, diff_decisions(decisions, previous)
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


def _fraction(new: pd.Series, old: pd.Series) -> pd.Series:
    return (new - old).abs().astype("float64") / old.astype("float64")


def check_breaker(decisions: pd.DataFrame, limits: PricingSettings) -> str | None:
    """Why the whole run needs approval, or None: too large a share of the priced
    products would change, or the median change of those that change is too large."""
    priced = decisions[decisions["status"] != "skipped"]
    changing = priced[priced["status"].isin(CHANGING) & (priced["old_price"] > 0).fillna(False)]
    if priced.empty or changing.empty:
        return None
    share = Decimal(len(changing)) / Decimal(len(priced))
    if share > limits.max_changed_share:
        return f"{len(changing)} of {len(priced)} products would change ({share:.0%} > {limits.max_changed_share:.0%})"
    median = float(np.median(_fraction(changing["new_price"], changing["old_price"])))
    if median > float(limits.max_median_change):
        return f"median change {median:.1%} > {float(limits.max_median_change):.1%}"
    return None


def trip_breaker(decisions: pd.DataFrame) -> pd.DataFrame:
    """Every proposed change needs approval, flagged ``breaker``."""
    out = decisions.copy()
    tripped = out["status"] == "proposed"
    out.loc[tripped, "status"] = "needs_approval"
    out.loc[tripped, "flags"] = (out.loc[tripped, "flags"] + ",breaker").str.lstrip(",")
    return out


def summarise(decisions: pd.DataFrame, breaker: str | None = None) -> dict[str, Any]:
    """Counts by direction and status, average change (%) and margin impact (minor units,
    one unit of each product with a known cost)."""
    new, old = decisions["new_price"], decisions["old_price"]
    changing = decisions["status"].isin(CHANGING) & new.notna() & old.notna()
    diff = (new - old).where(changing, 0).fillna(0)
    has_cost = changing & decisions["cost"].notna()
    moved = changing & (old > 0).fillna(False)
    average = (
        float((_fraction(new[moved], old[moved]) * np.sign(diff[moved])).mean() * 100)
        if moved.any()
        else 0.0
    )
    counts = decisions["status"].value_counts()
    return {
        "products": len(decisions),
        "up": int((diff > 0).sum()),
        "down": int((diff < 0).sum()),
        "unchanged": int(counts.get("unchanged", 0)),
        "proposed": int(counts.get("proposed", 0)),
        "needs_approval": int(counts.get("needs_approval", 0)),
        "skipped": int(counts.get("skipped", 0)),
        "average_change_pct": round(average, 2),
        "margin_impact": int(diff[has_cost].sum()),
        "breaker": breaker,
    }


def diff_decisions(decisions: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """Products whose decided price differs from the previous run's (or that are new)."""
    if previous.empty:
        return pd.DataFrame(columns=["sku", "previous_price", "new_price", "status"])
    merged = decisions[["product_id", "sku", "new_price", "status"]].merge(
        previous.rename(columns={"new_price": "previous_price", "status": "previous_status"}),
        on="product_id",
        how="left",
    )
    differs = merged["previous_price"].ne(merged["new_price"]).fillna(True)
    differs &= ~(merged["previous_price"].isna() & merged["new_price"].isna())
    return merged.loc[differs, ["sku", "previous_price", "new_price", "status"]].reset_index(
        drop=True
    )
