"""Push approved price changes to the storefront, verified and accounted for.

:func:`push_changes` does, in order:

1. **Select** ``price_changes`` with status ``approved`` (of one run, or all) from runs that
   are not dry runs. Only the newest approved change per product is pushed; older approved
   ones for the same product become ``superseded``.
2. **Re-validate** each against today's catalog bounds, effective cost and rule floor
   (:mod:`repricer.storefront.validate`, :mod:`repricer.storefront.floors`); those that would now break a guard become
   ``held`` (attempt row ``held`` with the reason) and are not pushed.
3. **Push** in batches of the connector's limit. After each batch, ONE transaction writes
   an attempt row per item (``pushed`` or ``failed`` with the error), moves accepted
   changes to ``pushed`` and sets ``products.price``. Failed changes stay ``approved`` and
   a later push retries them. A crash mid-push loses nothing: the batch in flight is not
   recorded, so it is sent again next time — the only items a storefront can receive twice.
4. **Read back** the pushed SKUs (``fetch_prices``) and write ``confirmed`` or ``mismatch``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Engine, select

from repricer.config import Settings
from repricer.db.models import PriceChange, Product, RepricingRun
from repricer.exceptions import NotFoundError, StorefrontError
from repricer.feeds.effective import effective_costs
from repricer.money import format_money
from repricer.storefront.base import Connector, PushItem, make_connector
from repricer.storefront.floors import rule_floors
from repricer.storefront.journal import Entry, record_batch, set_status, write_entries
from repricer.storefront.validate import hold_reasons

Progress = Callable[[int, int], None]
SAMPLE = 20  # how many failures/holds/mismatches the summary lists


@dataclass(frozen=True)
class Mismatch:
    sku: str
    pushed: int
    seen: int
    currency: str


@dataclass
class PushSummary:
    """What a push did. ``failures``/``holds`` list (sku, reason), at most 20 of each."""

    connector: str
    dry_run: bool = False
    candidates: int = 0
    pushed: int = 0
    failed: int = 0
    held: int = 0
    superseded: int = 0
    confirmed: int = 0
    unverified: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    holds: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None
    duration_s: float = 0.0

    def __str__(self) -> str:
        verb = "would push" if self.dry_run else "pushed"
        count = self.candidates - self.held if self.dry_run else self.pushed
        return (
            f"{self.connector}: {verb} {count}, held {self.held}, failed {self.failed}, "
            f"confirmed {self.confirmed}, mismatch {len(self.mismatches)}, "
            f"unverified {self.unverified}, superseded {self.superseded} "
            f"({self.duration_s:.1f}s)"
        )

    def as_dict(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if not isinstance(v, list)} | {
            "mismatch": len(self.mismatches)
        }


def push_changes(
    settings: Settings,
    engine: Engine,
    *,
    run_id: int | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    connector: Connector | None = None,
) -> PushSummary:
    """Push what is approved and not yet pushed; see the module docstring.

    Never raises for a storefront that fails mid-way: ``summary.error`` says why it stopped
    (the rest stays approved). Raises NotFoundError for an unknown run, StorefrontError for
    a dry-run run or a connector that cannot be built (missing URL or secret).
    """
    started = time.monotonic()
    _check_run(engine, run_id)
    latest, superseded = select_candidates(engine, run_id)
    floors = rule_floors(settings, latest)
    if floors is not None:
        latest = latest.join(floors)
    reasons = hold_reasons(latest)
    held, ready = latest[reasons.notna()], latest[reasons.isna()]
    summary = PushSummary(
        connector=connector.name if connector else settings.storefront.kind,
        dry_run=dry_run,
        candidates=len(latest),
        held=len(held),
        superseded=len(superseded),
        holds=list(zip(held["sku"], reasons[reasons.notna()], strict=True))[:SAMPLE],
    )
    if dry_run:
        summary.duration_s = time.monotonic() - started
        return summary
    own = connector is None
    connector = connector or make_connector(settings, engine)
    try:
        _record_holds(engine, summary.connector, held, reasons, superseded)
        pushed = _push_batches(engine, connector, _items(ready), summary, progress)
        _read_back(engine, connector, pushed, summary)
    finally:
        if own:
            connector.close()
    summary.duration_s = time.monotonic() - started
    return summary


def select_candidates(engine: Engine, run_id: int | None) -> tuple[pd.DataFrame, list[int]]:
    """(newest approved change per product joined with its product and cost, ids of the
    older approved changes it supersedes)."""
    query = (
        select(
            PriceChange.id.label("change_id"),
            PriceChange.run_id,
            PriceChange.product_id,
            PriceChange.sku,
            PriceChange.currency,
            PriceChange.new_price,
            Product.min_price,
            Product.map_price,
            Product.max_price,
            Product.storefront_id,
            Product.category,
            Product.brand,
            Product.tags,
        )
        .join(Product, Product.id == PriceChange.product_id)
        .join(RepricingRun, RepricingRun.id == PriceChange.run_id)
        .where(PriceChange.status == "approved", RepricingRun.status != "dry_run")
        .order_by(PriceChange.decided_at, PriceChange.id)
    )
    with engine.connect() as conn:
        frame = pd.read_sql(query, conn, dtype_backend="numpy_nullable")
        costs = effective_costs(conn)
    latest = frame.drop_duplicates("product_id", keep="last")
    superseded = [int(i) for i in frame.loc[~frame.index.isin(latest.index), "change_id"]]
    if run_id is not None:
        latest = latest[latest["run_id"] == run_id]
    costs = costs[["product_id", "cost", "currency"]].rename(columns={"currency": "cost_currency"})
    merged = latest.merge(costs, on="product_id", how="left").reset_index(drop=True)
    return merged, superseded


def _check_run(engine: Engine, run_id: int | None) -> None:
    if run_id is None:
        return
    with engine.connect() as conn:
        status = conn.execute(select(RepricingRun.status).where(RepricingRun.id == run_id)).scalar()
    if status is None:
        raise NotFoundError(f"no repricing run with id {run_id}")
    if status == "dry_run":
        raise StorefrontError(f"run {run_id} is a dry run; dry runs are never pushed")


def _record_holds(
    engine: Engine, connector: str, held: pd.DataFrame, reasons: pd.Series, superseded: list[int]
) -> None:
    entries = [
        Entry(int(cid), "held", None if pd.isna(price) else int(price), None, str(reason))
        for cid, price, reason in zip(
            held["change_id"], held["new_price"], reasons[reasons.notna()], strict=True
        )
    ]
    with engine.begin() as conn:
        write_entries(conn, connector, None, entries)
        set_status(conn, [e.change_id for e in entries], "held")
        set_status(conn, superseded, "superseded")


def _items(frame: pd.DataFrame) -> list[PushItem]:
    return [
        PushItem(
            int(cid), int(pid), str(sku), int(price), str(cur), None if pd.isna(sid) else str(sid)
        )
        for cid, pid, sku, price, cur, sid in zip(
            frame["change_id"],
            frame["product_id"],
            frame["sku"],
            frame["new_price"],
            frame["currency"],
            frame["storefront_id"],
            strict=True,
        )
    ]


def _push_batches(
    engine: Engine,
    connector: Connector,
    items: list[PushItem],
    summary: PushSummary,
    progress: Progress | None,
) -> list[PushItem]:
    if not items and connector.name == "file":
        connector.push([])  # the file storefront also carries stock: refresh it
    pushed: list[PushItem] = []
    skus = {i.change_id: i.sku for i in items}
    for start in range(0, len(items), connector.max_batch):
        batch = items[start : start + connector.max_batch]
        try:
            results = connector.push(batch)
        except StorefrontError as exc:
            summary.error = str(exc)
            break
        accepted, failures = record_batch(engine, connector.name, uuid.uuid4().hex, batch, results)
        pushed += accepted
        summary.pushed += len(accepted)
        summary.failed += len(failures)
        room = SAMPLE - len(summary.failures)
        summary.failures += [(skus[f.change_id], f.error or "failed") for f in failures[:room]]
        if progress:
            progress(start + len(batch), len(items))
    return pushed


def _read_back(
    engine: Engine, connector: Connector, pushed: list[PushItem], summary: PushSummary
) -> None:
    """Compare what the storefront shows with what was pushed; record confirmed/mismatch.

    SKUs the storefront does not return (or a read-back that fails) count as unverified.
    """
    if not pushed:
        return
    try:
        seen = connector.fetch_prices([i.sku for i in pushed])
    except StorefrontError as exc:
        summary.unverified = len(pushed)
        summary.error = summary.error or f"read-back failed: {exc}"
        return
    entries: list[Entry] = []
    for item in pushed:
        price = seen.get(item.sku)
        if price is None:
            summary.unverified += 1
        elif price.amount == item.price and price.currency == item.currency:
            entries.append(Entry(item.change_id, "confirmed", price.amount))
        else:
            shown = format_money(price.amount, price.currency)
            text = f"storefront shows {shown}, pushed {format_money(item.price, item.currency)}"
            entries.append(Entry(item.change_id, "mismatch", price.amount, None, text))
            summary.mismatches.append(Mismatch(item.sku, item.price, price.amount, price.currency))
    summary.confirmed = sum(e.status == "confirmed" for e in entries)
    with engine.begin() as conn:
        write_entries(conn, connector.name, None, entries)
