"""Push stock to the storefront: exactly the products whose stock changed, stock-outs first.

:func:`push_stock` compares the wanted stock (:func:`repricer.stock.levels.wanted_stock`)
with the journal of what was pushed (:mod:`repricer.stock.journal`) and sends only the
differences, products going out of stock first, in batches of the connector's limit.
Each accepted batch is journaled in one transaction; failed items are not, so the next
push retries them. Then the pushed SKUs are read back (``fetch_stock``) and each is
marked ``confirmed`` or ``mismatch``; mismatches are listed in the summary.

Stock needs no approval: it is the suppliers' fact, not a decision. The push runs under
the database's push lease, so it never interleaves with a price push.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Engine

from repricer.config import Settings
from repricer.exceptions import StorefrontError
from repricer.lease import PUSH, hold_lease
from repricer.stock.journal import pushed_states, record_checked, record_pushed
from repricer.stock.levels import wanted_stock
from repricer.storefront.base import Connector, PushResult, Stock, StockItem, make_connector

SAMPLE = 20  # how many failures/mismatches the summary lists


@dataclass(frozen=True)
class StockMismatch:
    sku: str
    pushed: Stock
    seen: Stock


@dataclass
class StockSummary:
    """What a stock push did. ``stockouts`` counts changes to out of stock (sent first)."""

    connector: str
    dry_run: bool = False
    candidates: int = 0
    stockouts: int = 0
    pushed: int = 0
    failed: int = 0
    confirmed: int = 0
    unverified: int = 0
    mismatched: int = 0
    mismatches: list[StockMismatch] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None
    duration_s: float = 0.0

    def __str__(self) -> str:
        verb = "would push" if self.dry_run else "pushed"
        count = self.candidates if self.dry_run else self.pushed
        return (
            f"{self.connector} stock: {verb} {count} ({self.stockouts} out of stock), "
            f"failed {self.failed}, confirmed {self.confirmed}, "
            f"mismatch {self.mismatched}, unverified {self.unverified} "
            f"({self.duration_s:.1f}s)"
        )

    def as_dict(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if not isinstance(v, list)}


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
    with _push_lease(settings, engine, wait):
        items = stock_changes(settings, engine, name)
        summary.candidates = len(items)
        summary.stockouts = sum(not i.in_stock for i in items)
        if not dry_run and items:
            own = connector is None
            connector = connector or make_connector(settings, engine)
            try:
                pushed = _push_batches(engine, connector, items, summary)
                _read_back(engine, connector, pushed, summary)
            finally:
                if own:
                    connector.close()
    summary.duration_s = time.monotonic() - started
    return summary


@contextmanager
def _push_lease(settings: Settings, engine: Engine, wait: float) -> Iterator[None]:
    """Hold the database's push lease for the whole stock push (waiting up to ``wait``
    seconds for a running push; LeaseHeldError names it after that)."""
    with hold_lease(engine, PUSH, ttl=settings.database.lease_ttl, wait=wait):
        yield


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


def _push_batches(
    engine: Engine, connector: Connector, items: list[StockItem], summary: StockSummary
) -> list[StockItem]:
    pushed: list[StockItem] = []
    for start in range(0, len(items), connector.max_batch):
        batch = items[start : start + connector.max_batch]
        try:
            results = connector.push_stock(batch)
        except StorefrontError as exc:
            summary.error = str(exc)
            break
        ok = {r.change_id for r in results if r.ok}
        accepted = [i for i in batch if i.product_id in ok]
        record_pushed(engine, connector.name, accepted)
        pushed += accepted
        summary.pushed += len(accepted)
        _note_failures(batch, results, ok, summary)
    return pushed


def _note_failures(
    batch: list[StockItem], results: list[PushResult], ok: set[int], summary: StockSummary
) -> None:
    errors = {r.change_id: r.error or "failed" for r in results if not r.ok}
    failed = [i for i in batch if i.product_id not in ok]
    summary.failed += len(failed)
    room = SAMPLE - len(summary.failures)
    summary.failures += [(i.sku, errors.get(i.product_id, "no result")) for i in failed[:room]]


def _read_back(
    engine: Engine, connector: Connector, pushed: list[StockItem], summary: StockSummary
) -> None:
    """Compare what the storefront shows with what was pushed; journal the outcome.
    SKUs the storefront does not return (or a failed read-back) count as unverified."""
    if not pushed:
        return
    try:
        seen = connector.fetch_stock([i.sku for i in pushed])
    except StorefrontError as exc:
        summary.unverified = len(pushed)
        summary.error = summary.error or f"read-back failed: {exc}"
        return
    checked: list[tuple[int, str, str | None]] = []
    for item in pushed:
        shown = seen.get(item.sku)
        if shown is None:
            summary.unverified += 1
        elif shows(item, shown):
            checked.append((item.product_id, "confirmed", None))
        else:
            wanted = Stock(item.quantity, item.in_stock)
            checked.append((item.product_id, "mismatch", f"storefront shows {describe(shown)}"))
            summary.mismatched += 1
            if len(summary.mismatches) < SAMPLE:
                summary.mismatches.append(StockMismatch(item.sku, wanted, shown))
    summary.confirmed = sum(status == "confirmed" for _, status, _ in checked)
    record_checked(engine, checked)


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
