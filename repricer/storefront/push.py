"""Push approved price changes to the storefront, verified and accounted for.

:func:`push_changes` holds the database's ``push`` lease (:mod:`repricer.lease`) for
the whole push, so one push acts per database (the CLI's, the scheduler's, the demo's);
a second one exits naming the holder. Then, in order:

0. **Recover**: changes a dead push left ``pushing`` go back to ``approved`` (attempt
   ``interrupted``) and ``failed`` ones to ``approved``, to be sent (again) below.
1. **Select** ``price_changes`` with status ``approved`` (of one run, or all) from runs that
   are not dry runs. Only the newest approved change per product is pushed; older approved
   ones for the same product become ``superseded``.
2. **Re-validate** each against today's catalog bounds, effective cost and rule floor
   (:mod:`repricer.storefront.validate`, :mod:`repricer.storefront.floors`); those that
   would now break a guard become ``held`` (attempt row ``held`` with the reason).
3. **Push** in batches of the connector's limit, through the loop the stock push shares
   (:func:`repricer.storefront.batches.push_batches`). Each batch is first claimed
   (``approved -> pushing``, compare-and-set): a change rejected, expired or superseded
   since step 1 is not claimed and never sent. After the storefront answers, ONE
   transaction writes an attempt row per item, moves accepted changes to ``pushed`` and
   sets ``products.price``; failed ones become ``failed`` (retried by the next push). A
   crash mid-push loses nothing: the batch in flight stays ``pushing`` and step 0 of the
   next push sends it again — the only items a storefront can receive twice.
4. **Read back** the pushed SKUs (``fetch_prices``): ``pushed -> confirmed | mismatch``.

Every move is a compare-and-set of :mod:`repricer.states`.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Engine, select

from repricer.config import Settings
from repricer.db.models import PriceChange, Product, RepricingRun
from repricer.exceptions import NotFoundError, StorefrontError
from repricer.feeds.effective import effective_costs
from repricer.lease import PUSH, hold_lease
from repricer.money import format_money
from repricer.states import move
from repricer.storefront.base import Connector, PushItem, PushResult, make_connector
from repricer.storefront.batches import (
    SAMPLE,
    Failure,
    Progress,
    PushTally,
    push_batches,
    read_back,
)
from repricer.storefront.floors import rule_floors
from repricer.storefront.journal import Entry, claim, record_batch, write_entries
from repricer.storefront.validate import hold_reasons


@dataclass(frozen=True)
class Mismatch:
    sku: str
    pushed: int
    seen: int
    currency: str


@dataclass
class PushSummary(PushTally):
    """What a price push did (the counts of :class:`PushTally` and these).
    ``holds`` lists (sku, reason), at most 20."""

    held: int = 0
    superseded: int = 0
    withdrawn: int = 0  # rejected, expired or superseded after selection: not sent
    recovered: int = 0  # left ``pushing`` by a push that died: sent again
    mismatches: list[Mismatch] = field(default_factory=list)
    holds: list[tuple[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        verb = "would push" if self.dry_run else "pushed"
        count = self.candidates - self.held if self.dry_run else self.pushed
        return (
            f"{self.connector}: {verb} {count}, held {self.held}, failed {self.failed}, "
            f"confirmed {self.confirmed}, mismatch {len(self.mismatches)}, "
            f"unverified {self.unverified}, superseded {self.superseded}"
            + (f", withdrawn {self.withdrawn}" if self.withdrawn else "")
            + (f", re-sent {self.recovered} interrupted" if self.recovered else "")
            + " "
            f"({self.duration_s:.1f}s)"
        )

    def as_dict(self) -> dict[str, object]:
        return super().as_dict() | {"mismatch": len(self.mismatches)}


def push_changes(
    settings: Settings,
    engine: Engine,
    *,
    run_id: int | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    connector: Connector | None = None,
    wait: float = 0.0,
) -> PushSummary:
    """Push what is approved and not yet pushed; see the module docstring.

    Never raises for a storefront that fails mid-way: ``summary.error`` says why it stopped
    (the rest stays approved). Raises NotFoundError for an unknown run, StorefrontError for
    a dry-run run or a connector that cannot be built (missing URL or secret), and
    LeaseHeldError naming the other push when one holds the push lease after ``wait``
    seconds. A dry run changes nothing and needs no lease.
    """
    started = time.monotonic()
    _check_run(engine, run_id)
    if dry_run:
        summary = _plan(settings, engine, run_id, connector, dry_run=True)[0]
        summary.duration_s = time.monotonic() - started
        return summary
    ttl = settings.database.lease_ttl
    with hold_lease(engine, PUSH, ttl=ttl, wait=wait) as lease:
        name = connector.name if connector else settings.storefront.kind
        recovered = recover_interrupted(engine, name)
        summary, held, reasons, superseded, ready = _plan(settings, engine, run_id, connector)
        summary.recovered = recovered
        own = connector is None
        connector = connector or make_connector(settings, engine)
        try:
            _record_holds(engine, summary.connector, held, reasons, superseded)
            items = _items(ready)
            if not items and connector.name == "file":
                connector.push([])  # the file storefront also carries stock: refresh it
            steps = _PriceSteps(engine, connector, summary)
            pushed = push_batches(steps, items, connector.max_batch, summary, lease, progress)
            _read_back(engine, connector, pushed, summary)
        finally:
            if own:
                connector.close()
    summary.duration_s = time.monotonic() - started
    return summary


def _plan(
    settings: Settings,
    engine: Engine,
    run_id: int | None,
    connector: Connector | None,
    *,
    dry_run: bool = False,
) -> tuple[PushSummary, pd.DataFrame, pd.Series, list[int], pd.DataFrame]:
    """Steps 1-2: (summary so far, held rows, their reasons, superseded ids, ready rows)."""
    latest, superseded = select_candidates(engine, run_id, retry_failed=dry_run)
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
    return summary, held, reasons, superseded, ready


def recover_interrupted(engine: Engine, connector: str) -> int:
    """Step 0 (the caller holds the push lease, so no other push is running): changes
    left ``pushing`` by a push that died go back to ``approved`` with an attempt row
    ``interrupted``; ``failed`` changes go back to ``approved`` for their retry. Returns
    how many were interrupted."""
    with engine.begin() as conn:
        stale = move(conn, None, "pushing", "approved")
        note = "the push process ended while this change was being sent; sending it again"
        write_entries(
            conn, connector, None, [Entry(i, "interrupted", None, None, note) for i in stale]
        )
        move(conn, None, "failed", "approved")
    return len(stale)


def select_candidates(
    engine: Engine, run_id: int | None, *, retry_failed: bool = False
) -> tuple[pd.DataFrame, list[int]]:
    """(newest approved change per product joined with its product and cost, ids of the
    older approved changes it supersedes); ``retry_failed`` counts ``failed`` changes as
    approved (what a dry run shows: a real push retries them)."""
    states = ("approved", "failed") if retry_failed else ("approved",)
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
        .where(PriceChange.status.in_(states), RepricingRun.status != "dry_run")
        .order_by(PriceChange.run_id, PriceChange.id)
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
        held_ids = move(conn, [e.change_id for e in entries], "approved", "held")
        write_entries(conn, connector, None, [e for e in entries if e.change_id in held_ids])
        move(conn, superseded, "approved", "superseded")


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


@dataclass
class _PriceSteps:
    """The price push's steps of :func:`repricer.storefront.batches.push_batches`."""

    engine: Engine
    connector: Connector
    summary: PushSummary
    kind: str = "push"

    def claim(self, chunk: list[PushItem]) -> list[PushItem]:
        """``approved -> pushing``; a change withdrawn since selection is not sent."""
        claimed = claim(self.engine, [i.change_id for i in chunk])
        batch = [i for i in chunk if i.change_id in claimed]
        self.summary.withdrawn += len(chunk) - len(batch)
        return batch

    def send(self, batch: list[PushItem]) -> list[PushResult]:
        # Anything but a StorefrontError (Ctrl-C) leaves the batch ``pushing``: it may
        # have arrived, so it is not reviewable until the next push re-sends it.
        return list(self.connector.push(batch))

    def record(
        self, batch: list[PushItem], results: list[PushResult]
    ) -> tuple[list[PushItem], list[Failure]]:
        accepted, failures = record_batch(
            self.engine, self.connector.name, uuid.uuid4().hex, batch, results
        )
        skus = {i.change_id: i.sku for i in batch}
        return accepted, [(skus[f.change_id], f.error or "failed") for f in failures]

    def give_up(self, batch: list[PushItem], error: str) -> list[Failure]:
        """The batch becomes ``failed``: the next push retries it."""
        return self.record(batch, [PushResult(i.change_id, False, None, error) for i in batch])[1]


def _read_back(
    engine: Engine, connector: Connector, pushed: list[PushItem], summary: PushSummary
) -> None:
    """Compare what the storefront shows with what was pushed; record confirmed/mismatch.

    SKUs the storefront does not return (or a read-back that fails) count as unverified.
    """
    entries: list[Entry] = []
    for item, price in read_back(pushed, _sku, connector.fetch_prices, summary):
        if price.amount == item.price and price.currency == item.currency:
            entries.append(Entry(item.change_id, "confirmed", price.amount))
        else:
            shown = format_money(price.amount, price.currency)
            text = f"storefront shows {shown}, pushed {format_money(item.price, item.currency)}"
            entries.append(Entry(item.change_id, "mismatch", price.amount, None, text))
            summary.mismatches.append(Mismatch(item.sku, item.price, price.amount, price.currency))
    summary.confirmed = sum(e.status == "confirmed" for e in entries)
    with engine.begin() as conn:
        write_entries(conn, connector.name, None, entries)
        for outcome in ("confirmed", "mismatch"):
            ids = [e.change_id for e in entries if e.status == outcome]
            move(conn, ids, "pushed", outcome)


def _sku(item: PushItem) -> str:
    return item.sku
