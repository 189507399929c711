"""A supplier's stock-only source ("остатки"): small, frequent, stock and availability only.

Configured per supplier with ``stock_url`` or ``stock_path`` and polled every
``stock_every``. It has the full feed's ``format``/``encoding``/``delimiter``/``columns``
and key, and needs only the key column plus a stock and/or availability column. Fetching
is conditional (``If-None-Match`` / ``If-Modified-Since`` from the last applied stock
sync, recorded apart from the full feed's in ``stock_syncs``), so an unchanged source
costs one 304.

A stock sync only updates ``stock_qty``/``available`` of offers the full feed created
(unknown keys are counted, never added) and never touches costs. Items absent from the
source keep their stock. Guards, checked before anything is written (a rejected source
changes nothing): no valid row; none of its keys known; or more than the supplier's
``max_missing_share`` of its available items going out of stock at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, and_, bindparam, select, update

from repricer.config import Settings, SupplierSettings
from repricer.db.models import StockSync, Supplier, SupplierOffer, utcnow
from repricer.db.upsert import upsert_rows
from repricer.exceptions import ConfigError, FeedError, InputFileError
from repricer.feeds._aliases import FEED_ALIASES
from repricer.feeds.parsers import iter_rows
from repricer.feeds.records import KEY_FIELDS, parse_bool, parse_stock, text
from repricer.feeds.sources import FetchedFeed, FetchError, fetch_feed
from repricer.table_reader import map_header, open_table

_syncs = cast(Table, StockSync.__table__)
_suppliers = cast(Table, Supplier.__table__)
_offers = cast(Table, SupplierOffer.__table__)
APPLIED = ("ok", "not_modified")

StockRow = tuple[str, int | None, bool]  # key, stock_qty (None: not said), available


@dataclass
class StockSyncResult:
    """One stock-only sync. status: ok | not_modified | rejected | failed."""

    supplier: str
    status: str = "running"
    seen: int = 0
    changed: int = 0
    stockouts: int = 0
    unknown: int = 0
    skipped: int = 0
    http_status: int | None = None
    error: str | None = None
    duration_s: float = 0.0

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


class StockRejected(Exception):
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
    return [sync_stock_feed(engine, s) for s in targets]


def sync_stock_feed(engine: Engine, supplier: SupplierSettings) -> StockSyncResult:
    """Sync one supplier's stock-only source; see the module docstring. Never raises for
    a bad source (the result says what happened)."""
    started = time.monotonic()
    supplier_id, sync_id, etag, last_modified = _begin(engine, supplier)
    result = StockSyncResult(supplier.name)
    feed: FetchedFeed | None = None
    try:
        feed = fetch_feed(stock_source(supplier), etag=etag, last_modified=last_modified)
        result.http_status = feed.http_status
        if feed.not_modified:
            result.status = "not_modified"
        else:
            assert feed.path is not None
            rows = {key: (qty, avail) for key, qty, avail in _read(feed.path, supplier, result)}
            _apply(engine, supplier, supplier_id, rows, result)
            result.status = "ok"
    except (FetchError, ConfigError) as exc:
        result.status, result.error = "failed", str(exc)
    except (StockRejected, InputFileError) as exc:
        result.status, result.error = "rejected", str(exc)
    except Exception as exc:  # a broken database or a bug: record it, go on
        result.status, result.error = "failed", f"{type(exc).__name__}: {exc}"
    finally:
        if feed is not None:
            feed.cleanup()
    result.duration_s = round(time.monotonic() - started, 3)
    _finish(engine, sync_id, result, feed, etag, last_modified)
    return result


def stock_source(supplier: SupplierSettings) -> SupplierSettings:
    """The supplier's settings pointed at its stock-only source."""
    return supplier.model_copy(update={"url": supplier.stock_url, "path": supplier.stock_path})


def _begin(engine: Engine, supplier: SupplierSettings) -> tuple[int, int, str | None, str | None]:
    with engine.begin() as conn:
        upsert_rows(
            conn,
            _suppliers,
            [{"name": supplier.name, "priority": supplier.priority, "created_at": utcnow()}],
            key=["name"],
            update=["priority"],
        )
        supplier_id = conn.execute(
            select(_suppliers.c.id).where(_suppliers.c.name == supplier.name)
        ).scalar_one()
        previous = conn.execute(
            select(_syncs.c.etag, _syncs.c.last_modified)
            .where(_syncs.c.supplier_id == supplier_id, _syncs.c.status.in_(APPLIED))
            .order_by(_syncs.c.id.desc())
            .limit(1)
        ).first()
        sync_id = conn.execute(
            _syncs.insert()
            .values(supplier_id=supplier_id, started_at=utcnow(), status="running")
            .returning(_syncs.c.id)
        ).scalar_one()
    etag, last_modified = previous if previous else (None, None)
    return supplier_id, sync_id, etag, last_modified


def _read(path: Path, supplier: SupplierSettings, result: StockSyncResult) -> Iterator[StockRow]:
    """Valid rows of the source (a repeated key: the last row wins)."""
    for _ref, raw in _raw_rows(path, supplier):
        key = text(raw.get(KEY_FIELDS[supplier.key]))
        stock, flag = parse_stock(raw.get("stock")), parse_bool(raw.get("available"))
        if key is None or (stock is None and flag is None):
            result.skipped += 1
            continue
        available = (flag if flag is not None else True) and (stock is None or stock > 0)
        yield key, stock, available


def _raw_rows(path: Path, supplier: SupplierSettings) -> Iterator[tuple[str | int, dict[str, Any]]]:
    if supplier.format == "yml":
        yield from iter_rows(path, supplier)
        return
    reader = open_table(
        path,
        format=supplier.format,
        encoding=supplier.encoding,
        delimiter=supplier.delimiter,
        sheet=supplier.sheet,
    )
    mapping = map_header(reader.header, FEED_ALIASES, supplier.columns)
    fields = set(mapping.values())
    if KEY_FIELDS[supplier.key] not in fields or not fields & {"stock", "available"}:
        raise InputFileError(
            f"a stock source needs a {supplier.key} column and a stock or availability "
            f"column (headers: {', '.join(map(str, reader.header))})",
            path=path,
            line=reader.header_line,
        )
    for line, cells in reader:
        yield line, {mapping[h]: v for h, v in cells.items() if h in mapping}


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
        .values(stock_qty=bindparam("b_qty"), available=bindparam("b_avail"), updated_at=utcnow())
    )
    conn.execute(stmt, [{"b_key": k, "b_qty": q, "b_avail": a} for k, q, a in changes])


def _finish(
    engine: Engine,
    sync_id: int,
    result: StockSyncResult,
    feed: FetchedFeed | None,
    etag: str | None,
    last_modified: str | None,
) -> None:
    """Close the stock_syncs row; validators are kept only for an applied source."""
    if result.status == "ok" and feed is not None:
        etag, last_modified = feed.etag, feed.last_modified
    elif result.status == "not_modified" and feed is not None:
        etag, last_modified = feed.etag or etag, feed.last_modified or last_modified
    else:
        etag = last_modified = None
    values = {
        "finished_at": utcnow(),
        "status": result.status,
        "seen": result.seen,
        "changed": result.changed,
        "unknown": result.unknown,
        "skipped": result.skipped,
        "http_status": result.http_status,
        "etag": etag,
        "last_modified": last_modified,
        "error": result.error,
    }
    with engine.begin() as conn:
        conn.execute(update(_syncs).where(_syncs.c.id == sync_id).values(**values))
