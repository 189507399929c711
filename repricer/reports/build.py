"""Build a :class:`Report` for one repricing run: the changes table (one row per product,
with margin and market position before and after), the summary, and the price history
of the largest changes. Writers (html, xlsx, csv) only format what is built here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, select

from repricer.db.models import PriceChange, Product, RepricingRun
from repricer.exceptions import NotFoundError
from repricer.pricing.stored_explanations import explained_frame
from repricer.reports._frames import as_money, percent, read_frame
from repricer.reports.history import PriceHistory, price_history
from repricer.reports.market import market_prices
from repricer.reports.summary import Summary, summarise
from repricer.run_counts import RunCounts, run_counts

HISTORY_CHARTS = 6  # price history charts for this many of the largest changes
# A rejected, expired or skipped change leaves the old price in place.
KEEPS_OLD_PRICE = ("unchanged", "skipped", "rejected", "expired")


@dataclass(frozen=True)
class RunInfo:
    id: int
    status: str
    started_at: datetime
    finished_at: datetime | None
    breaker: str | None
    rules_dir: str | None
    counts: RunCounts


@dataclass(frozen=True)
class Report:
    """Everything a report shows. Money columns of ``changes`` are Int64 minor units."""

    run: RunInfo
    currency: str
    summary: Summary
    changes: pd.DataFrame
    histories: list[PriceHistory] = field(default_factory=list)
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def build_report(engine: Engine, run_id: int | None, *, histories: int = HISTORY_CHARTS) -> Report:
    """Build the report of run ``run_id`` (``None``: the latest run of any status).

    Raises ``NotFoundError`` when the run does not exist or there is no run yet.
    """
    with engine.connect() as conn:
        run = _load_run(conn, run_id)
        changes = load_changes(conn, run)
        top = largest_changes(changes, histories)
    currency = _main_currency(changes)
    until = run.finished_at or run.started_at
    stories = [price_history(engine, sku, run_id=run.id, until=until) for sku in top]
    return Report(run, currency, summarise(changes, currency, run.counts), changes, stories)


def load_changes(conn: Connection, run: RunInfo) -> pd.DataFrame:
    """The run's price changes joined with the product and the market at run time."""
    query = (
        select(
            PriceChange.id,
            PriceChange.product_id,
            PriceChange.sku,
            Product.title,
            Product.brand,
            Product.category,
            PriceChange.currency,
            PriceChange.old_price,
            PriceChange.new_price,
            PriceChange.cost,
            PriceChange.floor,
            PriceChange.ceiling,
            PriceChange.reference_price,
            PriceChange.reference_competitor,
            PriceChange.rule,
            PriceChange.strategy,
            PriceChange.guards,
            PriceChange.flags,
            PriceChange.explanation,
            PriceChange.status,
            PriceChange.approved_by,
            PriceChange.approved_at,
        )
        .join(Product, Product.id == PriceChange.product_id)
        .where(PriceChange.run_id == run.id)
        .order_by(PriceChange.sku)
    )
    frame = explained_frame(conn, read_frame(conn, query), run.id)
    money = ("old_price", "new_price", "cost", "floor", "ceiling", "reference_price")
    frame = as_money(frame, *money)
    market = market_prices(conn, run.id, run.finished_at or run.started_at)
    frame = frame.merge(market, on="product_id", how="left")
    frame["competitors"] = frame["competitors"].fillna(0).astype("int64")
    return add_derived(as_money(frame, "market_min", "market_median"))


def add_derived(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns computed from the stored ones: final_price, change, change_pct, direction,
    margins (minor units and %) and position against the cheapest competitor (%)."""
    keeps = frame["status"].isin(KEEPS_OLD_PRICE) | frame["new_price"].isna()
    frame["final_price"] = frame["new_price"].where(~keeps, frame["old_price"])
    frame["change"] = frame["final_price"] - frame["old_price"]
    frame["change_pct"] = percent(frame["change"], frame["old_price"])
    sign = np.sign(frame["change"].fillna(0).astype("int64"))
    frame["direction"] = np.select([sign > 0, sign < 0], ["up", "down"], "same")
    frame["margin_before"] = frame["old_price"] - frame["cost"]
    frame["margin_after"] = frame["final_price"] - frame["cost"]
    frame["margin_before_pct"] = percent(frame["margin_before"], frame["old_price"])
    frame["margin_after_pct"] = percent(frame["margin_after"], frame["final_price"])
    frame["position_before_pct"] = percent(
        frame["old_price"] - frame["market_min"], frame["market_min"]
    )
    frame["position_after_pct"] = percent(
        frame["final_price"] - frame["market_min"], frame["market_min"]
    )
    for column in ("guards", "flags"):
        frame[column] = frame[column].map(lambda v: ", ".join(v) if isinstance(v, list) else "")
    return frame


def largest_changes(changes: pd.DataFrame, count: int) -> list[str]:
    """SKUs of the ``count`` largest changes by absolute percentage."""
    moved = changes[changes["change"].fillna(0) != 0]
    order = moved["change_pct"].abs().sort_values(ascending=False, kind="stable")
    return [str(sku) for sku in moved.loc[order.index[:count], "sku"]]


def _load_run(conn: Connection, run_id: int | None) -> RunInfo:
    query = select(RepricingRun)
    query = (
        query.where(RepricingRun.id == run_id)
        if run_id is not None
        else query.order_by(RepricingRun.id.desc()).limit(1)
    )
    row = conn.execute(query).first()
    if row is None:
        raise NotFoundError(
            f"repricing run {run_id}: no such run"
            if run_id is not None
            else "no repricing run yet (run `repricer reprice` first)"
        )
    finished = _utc(row.finished_at) if row.finished_at else None
    return RunInfo(
        row.id,
        row.status,
        _utc(row.started_at),
        finished,
        row.breaker,
        row.rules_dir,
        run_counts(row.summary),
    )


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _main_currency(changes: pd.DataFrame) -> str:
    if changes.empty:
        return "RUB"
    return str(changes["currency"].mode().iloc[0])
