"""Sync supplier feeds into ``supplier_offers``: fetch, stream-parse, diff, guard, upsert.

A sync is all or nothing. The feed is parsed into a staging table; guards then look at
the whole of it, and a feed that fails one (unreadable or truncated, empty, too many
known items missing, too many big cost moves) is rejected without touching the stored
offers. Otherwise only rows that differ are written, in one transaction, and items
absent from a ``complete`` feed become unavailable (never deleted). Row-level junk is
skipped and reported by line or offer id; a repeated key keeps the last row. Every sync
is recorded in ``feed_syncs``.

Unchanged data is not read twice. A file identical to the last applied one, with the
supplier's offers as that sync left them, ends the sync as ``unchanged``
(:mod:`repricer.feeds.content`). Otherwise only offers whose fingerprint is not stored
(:mod:`repricer.feeds.fingerprints`: new or changed since they were applied whole) are
parsed, checked and staged; the guards count the skipped ones as present and unchanged.
A key written twice with one occurrence unchanged makes the sync read the file whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
from sqlalchemy import Connection, Engine, Table, update

from repricer.config import Settings, SupplierSettings
from repricer.db.models import FeedSync, Supplier, utcnow
from repricer.exceptions import ConfigError, FeedError
from repricer.feeds import staging
from repricer.feeds.content import content_hash, last_applied, unchanged_since
from repricer.feeds.fingerprints import PrintIndex, load_index, settings_salt
from repricer.feeds.fresh import FreshRow, fresh_pieces, fresh_rows
from repricer.feeds.guards import FeedRejected, check_guards, would_change
from repricer.feeds.holds import hold_cost_moves, record_holds
from repricer.feeds.parsers import describe_ref, iter_rows
from repricer.feeds.parsers.yml_pieces import NotPlain, OfferPieces
from repricer.feeds.plain import plain_record
from repricer.feeds.records import KEY_FIELDS, RowFault, build_record
from repricer.feeds.run import run_sync
from repricer.feeds.sources import feed_name
from repricer.redact import redact

# (supplier name, stage, count so far); stage: fetching | parsing | writing | done.
ProgressCallback = Callable[[str, str, int], None]

BATCH = 5000
MAX_REPORTED_ROWS = 50
_syncs = cast(Table, FeedSync.__table__)
_suppliers = cast(Table, Supplier.__table__)


@dataclass
class SyncResult:
    """The outcome of one supplier's sync. ``status``: ok | not_modified | unchanged |
    rejected | failed. ``seen`` counts distinct valid offers in the feed (``skipped_same``
    of them skipped as unchanged, not read again); ``row_errors`` holds the first skipped
    rows (``"line 7: cost 'abc' is not a number"``)."""

    supplier: str
    status: str = "running"
    sync_id: int | None = None
    seen: int = 0
    changed: int = 0
    missing: int = 0
    skipped: int = 0
    unmapped: int = 0
    held: int = 0
    duplicates: int = 0
    http_status: int | None = None
    duration_s: float = 0.0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    row_errors: list[str] = field(default_factory=list)
    content_hash: str | None = None
    skipped_same: int = 0

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "not_modified", "unchanged")

    def __str__(self) -> str:
        if self.status in ("rejected", "failed"):
            return f"{self.supplier}: {self.status}: {self.error}"
        if self.status == "not_modified":
            return f"{self.supplier}: not modified"
        if self.status == "unchanged":
            return f"{self.supplier}: unchanged, the same file as the last sync"
        return (
            f"{self.supplier}: ok, {self.seen} seen, {self.changed} changed, "
            f"{self.missing} missing, {self.skipped} skipped, {self.unmapped} unmapped"
            + (f", {self.held} cost(s) held for review" if self.held else "")
        )


def sync_feeds(
    settings: Settings,
    engine: Engine,
    supplier: str | None = None,
    progress: ProgressCallback | None = None,
    *,
    accept_changes: bool = False,
) -> list[SyncResult]:
    """Sync every configured supplier, or only ``supplier``. ``accept_changes`` applies a
    feed once even when the missing-items or cost-change guards would refuse it.

    Never raises for a feed that fails or is rejected (the result says so); raises
    :class:`FeedError` for a supplier name not in the config.
    """
    if supplier is None:
        targets = list(settings.suppliers)
    else:
        try:
            targets = [settings.supplier(supplier)]
        except ConfigError:
            known = ", ".join(s.name for s in settings.suppliers) or "none"
            raise FeedError(f"not in the config (suppliers: {known})", supplier=supplier) from None
    return [
        sync_feed(settings, engine, s, progress=progress, accept_changes=accept_changes)
        for s in targets
    ]


def sync_feed(
    settings: Settings,
    engine: Engine,
    supplier: SupplierSettings,
    *,
    progress: ProgressCallback | None = None,
    accept_changes: bool = False,
) -> SyncResult:
    """Sync one supplier; see the module docstring. Never raises for a bad feed.

    Runs in :func:`repricer.feeds.run.run_sync`: under the lease ``feeds:<supplier>`` (a
    sync already running elsewhere makes this one fail at once, naming it), and a sync
    left ``running`` by a dead process is closed as ``interrupted`` when the next starts.
    """
    report = progress or (lambda _name, _stage, _count: None)
    currency = supplier.currency or settings.pricing.currency
    result = SyncResult(supplier.name)

    def load(path: Path, supplier_id: int) -> str | None:
        return _load(engine, supplier, supplier_id, path, currency, result, report, accept_changes)

    report(supplier.name, "fetching", 0)
    run_sync(
        engine,
        _syncs,
        supplier,
        result,
        load,
        _counts,
        lease=f"feeds:{supplier.name}",
        ttl=settings.database.lease_ttl,
    )
    report(supplier.name, "done", result.seen)
    return result


def _counts(result: SyncResult) -> dict[str, object]:
    """The feed_syncs columns of this kind of sync."""
    warnings = [redact(w) for w in (result.warnings + result.row_errors)[: MAX_REPORTED_ROWS + 5]]
    return {
        "seen": result.seen,
        "changed": result.changed,
        "missing": result.missing,
        "skipped": result.skipped,
        "unmapped": result.unmapped,
        "duration_s": result.duration_s,
        "warnings": warnings,
        "content_hash": result.content_hash if result.status in ("ok", "unchanged") else None,
    }


def _load(
    engine: Engine,
    supplier: SupplierSettings,
    supplier_id: int,
    path: Path,
    currency: str,
    result: SyncResult,
    report: ProgressCallback,
    accept_changes: bool = False,
) -> str | None:
    with engine.connect() as conn:
        result.content_hash = content_hash(path, settings_salt(supplier, currency, "file"))
        if not accept_changes and _same_as_applied(conn, supplier, supplier_id, result):
            return "unchanged"
        conn.rollback()
        staging.create_staging(conn)
        conn.commit()
        with conn.begin():
            rows, index = _stage(conn, path, supplier, supplier_id, currency, result, report)
        report(supplier.name, "writing", rows)
        try:
            with conn.begin():
                _apply(conn, supplier, supplier_id, result, index, accept_changes)
        finally:
            with conn.begin():
                staging.drop_staging(conn)
    return None


def _same_as_applied(
    conn: Connection, supplier: SupplierSettings, supplier_id: int, result: SyncResult
) -> bool:
    """Whether the file is the last applied one and applying it would write nothing;
    if so, ``result`` repeats that sync's counts."""
    applied = last_applied(conn, supplier_id)
    if applied is None or applied.content_hash != result.content_hash:
        return False
    if not unchanged_since(conn, supplier_id, applied, supplier.key):
        return False
    result.seen, result.skipped, result.unmapped = applied.seen, applied.skipped, applied.unmapped
    result.skipped_same = applied.seen
    return True


def _stage(
    conn: Connection,
    path: Path,
    supplier: SupplierSettings,
    supplier_id: int,
    currency: str,
    result: SyncResult,
    report: ProgressCallback,
) -> tuple[int, PrintIndex]:
    """Stage the feed's new and changed offers; returns (rows read, fingerprints).

    A key written twice with one occurrence unchanged (the skipped one might not be
    the last) makes the feed staged whole, skipping nothing."""
    rows, index = _stage_read(conn, path, supplier, supplier_id, currency, result, report, True)
    if index.delta and _repeated(conn, supplier_id, index):
        _restart(conn, result)
        rows, index = _stage_read(
            conn, path, supplier, supplier_id, currency, result, report, False
        )
    result.skipped_same = index.matched()
    return rows, index


def _repeated(conn: Connection, supplier_id: int, index: PrintIndex) -> bool:
    if index.repeats():
        return True
    restaged = np.array(staging.restaged_prints(conn, supplier_id), dtype=np.int64)
    return index.repeated(restaged)


def _restart(conn: Connection, result: SyncResult) -> None:
    staging.clear_staging(conn)
    result.skipped = 0
    result.row_errors.clear()


def _stage_read(
    conn: Connection,
    path: Path,
    supplier: SupplierSettings,
    supplier_id: int,
    currency: str,
    result: SyncResult,
    report: ProgressCallback,
    delta: bool,
) -> tuple[int, PrintIndex]:
    """Read the file into the staging table: a plain YML file as offer bytes, anything
    else (or a YML file that is not plain) row by row."""
    if supplier.format == "yml":
        salt = settings_salt(supplier, currency, "pieces")
        index = load_index(conn, supplier_id, salt, delta=delta)
        try:
            fresh = fresh_pieces(OfferPieces(path, supplier.encoding), index)
            return _stage_records(conn, fresh, supplier, currency, result, report, index), index
        except NotPlain:
            _restart(conn, result)
    salt = settings_salt(supplier, currency, "rows")
    index = load_index(conn, supplier_id, salt, delta=delta)
    fresh = fresh_rows(iter_rows(path, supplier), index)
    return _stage_records(conn, fresh, supplier, currency, result, report, index), index


def _stage_records(
    conn: Connection,
    rows: Iterable[FreshRow],
    supplier: SupplierSettings,
    currency: str,
    result: SyncResult,
    report: ProgressCallback,
    index: PrintIndex,
) -> int:
    """Check and stage new and changed offers, counting and reporting junk rows;
    returns the number of rows read (skipped unchanged ones included)."""
    batch: list[tuple[Any, ...]] = []
    key_field = KEY_FIELDS[supplier.key]
    for ref, raw, fp in rows:
        record = plain_record(raw, key_field, currency) or build_record(raw, supplier.key, currency)
        if isinstance(record, RowFault):  # a value not to be guessed at: refuse the feed
            raise FeedRejected(f"{feed_name(supplier)}: {describe_ref(ref)}: {record.reason}")
        if isinstance(record, str):
            result.skipped += 1
            if len(result.row_errors) < MAX_REPORTED_ROWS:
                result.row_errors.append(f"{describe_ref(ref)}: {record}")
            continue
        batch.append((*record, fp))
        if len(batch) >= BATCH:
            staging.stage_records(conn, batch)
            batch.clear()
            report(supplier.name, "parsing", index.read)
    staging.stage_records(conn, batch)
    report(supplier.name, "parsing", index.read)
    return index.read


def _apply(
    conn: Connection,
    supplier: SupplierSettings,
    supplier_id: int,
    result: SyncResult,
    index: PrintIndex,
    accept_changes: bool = False,
) -> None:
    # Take the write lock first, so the counts below cannot go stale before the writes.
    conn.execute(
        update(_suppliers).where(_suppliers.c.id == supplier_id).values(priority=supplier.priority)
    )
    skipped = index.skipped()
    diff = staging.analyse(conn, supplier_id, supplier.key, supplier.max_cost_change, skipped)
    result.seen, result.duplicates, result.unmapped = diff.staged, diff.duplicates, diff.unmapped
    result.missing = diff.missing if supplier.complete else 0
    if diff.duplicates:
        result.warnings.append(
            f"{diff.duplicates} repeated key(s), the last row wins: {', '.join(diff.duplicate_keys)}"
        )
    if result.skipped:
        result.warnings.append(f"{result.skipped} row(s) skipped")
    reason = check_guards(supplier, diff, result.skipped)
    if reason and "missing from the feed" in reason:
        reason += f" (e.g. {', '.join(staging.describe_missing(conn, supplier_id))})"
    if reason and accept_changes and diff.staged:
        result.warnings.append(f"applied with --accept-changes although {reason}")
    elif reason:
        raise FeedRejected(reason + would_change(supplier, diff))
    held = hold_cost_moves(conn, supplier_id, supplier.hold_cost_ratio)
    now = utcnow()
    result.changed, result.missing = staging.apply_changes(
        conn, supplier_id, supplier.key, now, supplier.complete, first=not skipped.stored
    )
    record_holds(conn, supplier_id, held, now, held_before=bool(skipped.held))
    result.held = len(held)
    if held:
        shown = "; ".join(str(h) for h in held[:10])
        result.warnings.append(
            f"{len(held)} cost move(s) beyond x{supplier.hold_cost_ratio} held for review "
            f"(repricer feeds held): {shown}"
        )
