"""Push stock to the storefront: exactly the products whose stock changed, stock-outs first.

:func:`push_stock` compares the wanted stock (:func:`repricer.stock.levels.wanted_stock`)
with the journal of what was pushed (:mod:`repricer.stock.journal`) and sends only the
differences, products going out of stock first, in batches of the connector's limit.
It runs in the loop the price push shares
(:func:`repricer.storefront.batches.push_batches`: lease checked before each batch, the
batch sent, its answer recorded in one transaction). Accepted items are journaled;
failed items, a batch the storefront failed whole and batches not reached are not, so
the next push sends them. Then the pushed SKUs are read back (``fetch_stock``) and each is
marked ``confirmed`` or ``mismatch``; mismatches are listed in the summary.

Stock needs no approval: it is the suppliers' fact, not a decision. The push runs under
the database's push lease, so it never interleaves with a price push.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Engine

from repricer.config import Settings
from repricer.exceptions import StorefrontError
from repricer.lease import PUSH, hold_lease
from repricer.stock.journal import pushed_states, record_checked, record_pushed
from repricer.stock.levels import wanted_stock
from repricer.storefront.base import Connector, PushResult, Stock, StockItem, make_connector
from repricer.storefront.batches import SAMPLE, Failure, PushTally, push_batches, read_back


@dataclass(frozen=True)
class StockMismatch:
    sku: str
    pushed: Stock
    seen: Stock


@dataclass
class StockSummary(PushTally):
    """What a stock push did (the counts of :class:`PushTally` and these).
    ``stockouts`` counts changes to out of stock (sent first)."""

    stockouts: int = 0
    mismatched: int = 0
    mismatches: list[StockMismatch] = field(default_factory=list)

    def __str__(self) -> str:
        verb = "would push" if self.dry_run else "pushed"
        count = self.candidates if self.dry_run else self.pushed
        return (
            f"{self.connector} stock: {verb} {count} ({self.stockouts} out of stock), "
            f"failed {self.failed}, confirmed {self.confirmed}, "
            f"mismatch {self.mismatched}, unverified {self.unverified} "
            f"({self.duration_s:.1f}s)"
        )


def push_stock(
    settings: Settings,
    engine: Engine,
    *,
    dry_run: bool = False,
    connector: Connector | None = None,
    wait: float = 0.0,
) -> StockSummary:
    """Push the stock that changed since the last push; see the module docstring.

    Never raises for a storefront that fails mid-way (``summary.error`` says why it
    stopped; the rest is pushed next time). Raises StorefrontError when stock pushing is
    off or the connector cannot be built.
    """
    if settings.storefront.stock.mode == "off":
        raise StorefrontError('stock pushing is off ([storefront.stock] mode = "off")')
    started = time.monotonic()
    name = connector.name if connector else settings.storefront.kind
    summary = StockSummary(connector=name, dry_run=dry_run)
    with hold_lease(engine, PUSH, ttl=settings.database.lease_ttl, wait=wait) as lease:
        items = stock_changes(settings, engine, name)
        summary.candidates = len(items)
        summary.stockouts = sum(not i.in_stock for i in items)
        if not dry_run and items:
            own = connector is None
            connector = connector or make_connector(settings, engine)
            try:
                steps = _StockSteps(engine, connector)
                pushed = push_batches(steps, items, connector.max_batch, summary, lease)
                _read_back(engine, connector, pushed, summary)
            finally:
                if own:
                    connector.close()
    summary.duration_s = time.monotonic() - started
    return summary


def stock_changes(settings: Settings, engine: Engine, connector: str) -> list[StockItem]:
    """Products whose wanted stock differs from what ``connector`` was last sent,
    those going out of stock first."""
    with engine.connect() as conn:
        wanted = wanted_stock(settings, conn)
    frame = wanted.merge(pushed_states(engine, connector), on="product_id", how="left")
    never = frame["pushed_in_stock"].isna()
    flag = frame["pushed_in_stock"].astype("boolean") != frame["in_stock"]
    qty_now, qty_then = frame["quantity"].astype("Int64"), frame["pushed_quantity"]
    count = (qty_now.isna() != qty_then.isna()) | (qty_now != qty_then).fillna(False)
    changed = frame[(never | flag.fillna(True) | count).astype(bool)]
    changed = changed.sort_values(["in_stock", "product_id"], kind="stable")
    return [
        StockItem(
            int(pid),
            str(sku),
            None if pd.isna(qty) else int(qty),
            bool(in_stock),
            None if pd.isna(sid) else str(sid),
        )
        for pid, sku, sid, qty, in_stock in zip(
            changed["product_id"],
            changed["sku"],
            changed["storefront_id"],
            changed["quantity"],
            changed["in_stock"],
            strict=True,
        )
    ]


@dataclass
class _StockSteps:
    """The stock push's steps of :func:`repricer.storefront.batches.push_batches`.

    Stock needs no claim: nothing else moves it, and the journal row is written only
    once the storefront accepted the item, so whatever is not journaled (a failed item,
    a batch the storefront failed whole, a crash before recording) is sent again by the
    next push; setting absolute stock twice is harmless."""

    engine: Engine
    connector: Connector
    kind: str = "stock-push"

    def claim(self, chunk: list[StockItem]) -> list[StockItem]:
        return chunk

    def send(self, batch: list[StockItem]) -> list[PushResult]:
        return list(self.connector.push_stock(batch))

    def record(
        self, batch: list[StockItem], results: list[PushResult]
    ) -> tuple[list[StockItem], list[Failure]]:
        ok = {r.change_id for r in results if r.ok}
        errors = {r.change_id: r.error or "failed" for r in results if not r.ok}
        accepted = [i for i in batch if i.product_id in ok]
        record_pushed(self.engine, self.connector.name, accepted)
        failed = [
            (i.sku, errors.get(i.product_id, "no result")) for i in batch if i.product_id not in ok
        ]
        return accepted, failed

    def give_up(self, batch: list[StockItem], error: str) -> list[Failure]:
        return [(i.sku, error) for i in batch]  # not journaled: the next push sends them


def _read_back(
    engine: Engine, connector: Connector, pushed: list[StockItem], summary: StockSummary
) -> None:
    """Compare what the storefront shows with what was pushed; journal the outcome.
    SKUs the storefront does not return (or a failed read-back) count as unverified."""
    checked: list[tuple[int, str, str | None]] = []
    for item, shown in read_back(pushed, _sku, connector.fetch_stock, summary):
        if shows(item, shown):
            checked.append((item.product_id, "confirmed", None))
        else:
            wanted = Stock(item.quantity, item.in_stock)
            checked.append((item.product_id, "mismatch", f"storefront shows {describe(shown)}"))
            summary.mismatched += 1
            if len(summary.mismatches) < SAMPLE:
                summary.mismatches.append(StockMismatch(item.sku, wanted, shown))
    summary.confirmed = sum(status == "confirmed" for _, status, _ in checked)
    record_checked(engine, checked)


def _sku(item: StockItem) -> str:
    return item.sku


def shows(item: StockItem, seen: Stock) -> bool:
    """Whether ``seen`` is the storefront showing ``item``: the same in-stock flag, and
    the same count when one was pushed."""
    if seen.in_stock != item.in_stock:
        return False
    return item.quantity is None or seen.quantity == item.quantity


def describe(stock: Stock) -> str:
    """``"in stock (5)"``, ``"out of stock"``, ``"in stock"``."""
    text = "in stock" if stock.in_stock else "out of stock"
    return f"{text} ({stock.quantity})" if stock.quantity is not None and stock.in_stock else text
