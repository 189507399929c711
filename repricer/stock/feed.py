"""A supplier's stock-only source ("остатки"): small, frequent, stock and availability only.

Configured per supplier with ``stock_url`` or ``stock_path`` and polled every
``stock_every``. It has the full feed's ``format``/``encoding``/``delimiter``/``columns``
and key, and needs only the key column plus a stock and/or availability column. Fetching
is conditional (``If-None-Match`` / ``If-Modified-Since`` from the last applied stock
sync, recorded apart from the full feed's in ``stock_syncs``), so an unchanged source
costs one 304.

A stock sync only updates ``stock_qty``/``available`` of offers the full feed created
(unknown keys are counted, never added) and never touches costs. Items absent from the
source keep their stock. It runs in the same skeleton as the full feed
(:mod:`repricer.feeds.run`: lease, ``stock_syncs`` row, conditional fetch) and reads the
file through the same parsers, so a cut CSV (no final line break, a quote left open, a
short last row) or broken YML is refused whole. A row whose stock cell is neither a
count nor an availability word is skipped (reported by line and SKU), never read as out
of stock; a count above the bounds of :mod:`repricer.money` refuses the whole source,
naming file, line and SKU. Guards, checked before anything is written (a rejected
source changes nothing): no valid row; no offers yet; none of its keys known; or more
than the supplier's ``max_missing_share`` of its available items going out of stock at
once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from sqlalchemy import Connection, Engine, Table, and_, bindparam, select, update

from repricer.config import Settings, SupplierSettings
from repricer.db.models import StockSync, SupplierOffer, utcnow
from repricer.exceptions import FeedError
from repricer.feeds.guards import FeedRejected
from repricer.feeds.parsers import describe_ref, iter_rows
from repricer.feeds.records import KEY_FIELDS, RowFault, StockRow, build_stock_row
from repricer.feeds.run import APPLIED, run_sync
from repricer.feeds.sources import feed_name

_syncs = cast(Table, StockSync.__table__)
_offers = cast(Table, SupplierOffer.__table__)
MAX_REPORTED_ROWS = 50


@dataclass
class StockSyncResult:
    """One stock-only sync. status: ok | not_modified | rejected | failed. ``row_errors``
    holds the first skipped rows (``"line 7: sku S1: stock 'abc' is not a count"``)."""

    supplier: str
    status: str = "running"
    sync_id: int | None = None
    seen: int = 0
    changed: int = 0
    stockouts: int = 0
    unknown: int = 0
    skipped: int = 0
    http_status: int | None = None
    error: str | None = None
    duration_s: float = 0.0
    row_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in APPLIED

    def __str__(self) -> str:
        if not self.ok:
            return f"{self.supplier} stock: {self.status}: {self.error}"
        if self.status == "not_modified":
            return f"{self.supplier} stock: not modified"
        return (
            f"{self.supplier} stock: ok, {self.seen} seen, {self.changed} changed "
            f"({self.stockouts} out of stock), {self.unknown} unknown, {self.skipped} skipped"
        )


class StockRejected(FeedRejected):
    """A guard refused the stock source; never escapes :func:`sync_stock_feed`."""


def sync_stock_feeds(
    settings: Settings, engine: Engine, supplier: str | None = None
) -> list[StockSyncResult]:
    """Sync the stock-only source of every supplier that has one, or of ``supplier``."""
    targets = [s for s in settings.suppliers if s.has_stock_source]
    if supplier is not None:
        targets = [s for s in targets if s.name == supplier]
        if not targets:
            names = ", ".join(s.name for s in settings.suppliers if s.has_stock_source) or "none"
            raise FeedError(
                f"has no stock_url/stock_path (stock sources: {names})", supplier=supplier
            )
    return [sync_stock_feed(settings, engine, s) for s in targets]


def sync_stock_feed(
    settings: Settings, engine: Engine, supplier: SupplierSettings
) -> StockSyncResult:
    """Sync one supplier's stock-only source; see the module docstring. Never raises for
    a bad source (the result says what happened). Runs in
    :func:`repricer.feeds.run.run_sync` under the lease ``stock:<supplier>``."""
    result = StockSyncResult(supplier.name)
    source = stock_source(supplier)

    def load(path: Path, supplier_id: int) -> None:
        rows = {row.key: (row.stock_qty, row.available) for row in _read(path, source, result)}
        _apply(engine, supplier, supplier_id, rows, result)

    return run_sync(
        engine,
        _syncs,
        source,
        result,
        load,
        _counts,
        lease=f"stock:{supplier.name}",
        ttl=settings.database.lease_ttl,
    )


def _counts(result: StockSyncResult) -> dict[str, object]:
    """The stock_syncs columns of this kind of sync."""
    return {
        "seen": result.seen,
        "changed": result.changed,
        "unknown": result.unknown,
        "skipped": result.skipped,
    }


def stock_source(supplier: SupplierSettings) -> SupplierSettings:
    """The supplier's settings pointed at its stock-only source."""
    return supplier.model_copy(update={"url": supplier.stock_url, "path": supplier.stock_path})


def _read(path: Path, source: SupplierSettings, result: StockSyncResult) -> Iterator[StockRow]:
    """Valid rows of the source (a repeated key: the last row wins). A cut file or a
    count beyond bounds refuses the whole source, naming the file, line and SKU."""
    needs = ({KEY_FIELDS[source.key]}, {"stock", "available"})
    for ref, raw in iter_rows(path, source, needs):
        row = build_stock_row(raw, source.key)
        if isinstance(row, RowFault):
            raise StockRejected(f"{feed_name(source)}: {describe_ref(ref)}: {row.reason}")
        if isinstance(row, str):
            result.skipped += 1
            if len(result.row_errors) < MAX_REPORTED_ROWS:
                result.row_errors.append(f"{describe_ref(ref)}: {row}")
            continue
        yield row


def _apply(
    engine: Engine,
    supplier: SupplierSettings,
    supplier_id: int,
    rows: dict[str, tuple[int | None, bool]],
    result: StockSyncResult,
) -> None:
    result.seen = len(rows)
    with engine.begin() as conn:
        stored = _stored(conn, supplier_id)
        result.unknown = sum(key not in stored for key in rows)
        changes = [
            (key, qty, avail)
            for key, (qty, avail) in rows.items()
            if key in stored and stored[key] != (qty, avail)
        ]
        result.stockouts = sum(not avail and stored[key][1] for key, _, avail in changes)
        _check_guards(supplier, rows, stored, result)
        _write(conn, supplier_id, changes)
        result.changed = len(changes)


def _stored(conn: Connection, supplier_id: int) -> dict[str, tuple[int | None, bool]]:
    rows = conn.execute(
        select(_offers.c.key, _offers.c.stock_qty, _offers.c.available).where(
            _offers.c.supplier_id == supplier_id
        )
    )
    return {key: (qty, bool(avail)) for key, qty, avail in rows}


def _check_guards(
    supplier: SupplierSettings,
    rows: dict[str, tuple[int | None, bool]],
    stored: dict[str, tuple[int | None, bool]],
    result: StockSyncResult,
) -> None:
    if not rows:
        raise StockRejected(f"empty stock source: no valid rows ({result.skipped} skipped)")
    if not stored:
        raise StockRejected(
            f"{supplier.name} has no offers yet: its full feed must be synced first"
        )
    if result.unknown == len(rows):
        raise StockRejected(
            f"none of its {len(rows)} keys is an offer of {supplier.name} (is it this "
            "supplier's stock file, with the same key?)"
        )
    available = sum(avail for _, avail in stored.values())
    if available and result.stockouts / available > supplier.max_missing_share:
        raise StockRejected(
            f"{result.stockouts} of {available} available items would go out of stock at "
            f"once, above max_missing_share {float(supplier.max_missing_share) * 100:g}%"
        )


def _write(conn: Connection, supplier_id: int, changes: list[tuple[str, int | None, bool]]) -> None:
    if not changes:
        return
    stmt = (
        update(_offers)
        .where(and_(_offers.c.supplier_id == supplier_id, _offers.c.key == bindparam("b_key")))
        .values(
            stock_qty=bindparam("b_qty"),
            available=bindparam("b_avail"),
            feed_fp=None,  # no longer what the full feed said: its next sync reads the item
            updated_at=utcnow(),
        )
    )
    conn.execute(stmt, [{"b_key": k, "b_qty": q, "b_avail": a} for k, q, a in changes])
