"""The skeleton every supplier sync runs in: lease, sync row, conditional fetch, outcome.

Both the full feed sync (:mod:`repricer.feeds.sync`, rows in ``feed_syncs``) and the
stock-only sync (:mod:`repricer.stock.feed`, rows in ``stock_syncs``) go through
:func:`run_sync`, which:

1. holds the lease ``<kind>:<supplier>`` (one sync of a kind per supplier and database at
   a time; a sync already running makes this one fail at once, naming it);
2. upserts the supplier, closes a sync left ``running`` by a dead process as
   ``interrupted``, and opens a ``running`` row;
3. fetches the source conditionally, with the validators (ETag, Last-Modified) of the
   last applied sync, and hands the file to the kind's ``load``, which either applies it
   whole or raises (nothing written); ``load`` may say the file was ``unchanged`` (the
   same as the last applied one: nothing to write);
4. sorts what went wrong: a fetch or config problem is ``failed``, an unreadable or cut
   file or a guard's refusal is ``rejected``, anything else (a broken database, a bug) is
   ``failed`` with its type, and the other suppliers still sync;
5. closes the row with the kind's counts; validators are kept only for an applied
   source, and errors and warnings are redacted (they quote URLs).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine, Table, select, update

from repricer.config import SupplierSettings
from repricer.db.models import Supplier, utcnow
from repricer.db.upsert import upsert_rows
from repricer.exceptions import ConfigError, InputFileError, LeaseHeldError
from repricer.feeds.guards import FeedRejected
from repricer.feeds.sources import FetchedFeed, FetchError, feed_name, fetch_feed
from repricer.lease import Lease
from repricer.redact import redact

APPLIED = ("ok", "not_modified", "unchanged")
_suppliers: Table = Supplier.__table__  # type: ignore[assignment]


class SyncOutcome(Protocol):
    """What :func:`run_sync` fills in on a kind's result object."""

    supplier: str
    status: str  # running | ok | not_modified | unchanged | rejected | failed
    sync_id: int | None
    http_status: int | None
    error: str | None
    duration_s: float


R = TypeVar("R", bound=SyncOutcome)
# (the fetched file, the supplier's id): apply it whole, or raise and write nothing;
# returns "unchanged" when the file was skipped as the same as the last applied one.
Load = Callable[[Path, int], str | None]


def run_sync(
    engine: Engine,
    table: Table,
    source: SupplierSettings,
    result: R,
    load: Load,
    counts: Callable[[R], Mapping[str, Any]],
    *,
    lease: str,
    ttl: timedelta,
) -> R:
    """Run one sync of ``source`` recorded in ``table``; see the module docstring.

    ``counts`` gives the kind's own columns to record when the row is closed. Never
    raises for a bad source: ``result`` says what happened.
    """
    held = Lease(engine, lease, ttl=ttl)
    try:
        held.acquire(wait=0)
    except LeaseHeldError as exc:
        result.status, result.error = "failed", str(exc)
        return result
    try:
        return _run_leased(engine, table, source, result, load, counts)
    finally:
        held.release()


def _run_leased(
    engine: Engine,
    table: Table,
    source: SupplierSettings,
    result: R,
    load: Load,
    counts: Callable[[R], Mapping[str, Any]],
) -> R:
    started = time.monotonic()
    supplier_id, result.sync_id, etag, last_modified = begin_sync(engine, table, source)
    feed: FetchedFeed | None = None
    try:
        feed = fetch_feed(source, etag=etag, last_modified=last_modified)
        result.http_status = feed.http_status
        if feed.not_modified:
            result.status = "not_modified"
        else:
            assert feed.path is not None
            result.status = load(feed.path, supplier_id) or "ok"
    except (FetchError, ConfigError) as exc:
        result.status, result.error = "failed", str(exc)
        result.http_status = getattr(exc, "http_status", None) or result.http_status
    except FeedRejected as exc:
        result.status, result.error = "rejected", str(exc)
    except InputFileError as exc:
        result.status, result.error = "rejected", _named(exc, feed, source)
    except Exception as exc:  # a broken database or a bug: record it, sync the others
        result.status, result.error = "failed", f"{type(exc).__name__}: {exc}"
    finally:
        if feed is not None:
            feed.cleanup()
    result.duration_s = round(time.monotonic() - started, 3)
    # Errors quote URLs (httpx messages): no credential or token is ever stored.
    result.error = redact(result.error) if result.error else result.error
    finish_sync(engine, table, result, feed, (etag, last_modified), counts(result))
    return result


def _named(exc: InputFileError, feed: FetchedFeed | None, source: SupplierSettings) -> str:
    """The message naming the source (``stock.csv:12: ...``) rather than the temporary
    file a download was saved to."""
    text = str(exc)
    if feed is None or feed.path is None or exc.path != feed.path or source.path == feed.path:
        return text
    return text.replace(str(exc.path), feed_name(source), 1)


def begin_sync(
    engine: Engine, table: Table, supplier: SupplierSettings
) -> tuple[int, int, str | None, str | None]:
    """Upsert the supplier row, close an abandoned ``running`` row, open a new one; return
    (supplier id, sync id, ETag and Last-Modified of the last applied sync)."""
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
        _close_abandoned(conn, table, supplier_id)
        previous = conn.execute(
            select(table.c.etag, table.c.last_modified)
            .where(table.c.supplier_id == supplier_id, table.c.status.in_(APPLIED))
            .order_by(table.c.started_at.desc(), table.c.id.desc())
            .limit(1)
        ).first()
        sync_id = conn.execute(
            table.insert()
            .values(supplier_id=supplier_id, started_at=utcnow(), status="running")
            .returning(table.c.id)
        ).scalar_one()
    etag, last_modified = previous if previous else (None, None)
    return supplier_id, sync_id, etag, last_modified


def _close_abandoned(conn: Connection, table: Table, supplier_id: int) -> None:
    """A sync still ``running`` while we hold the supplier's lease died with its process."""
    conn.execute(
        update(table)
        .where(table.c.supplier_id == supplier_id, table.c.status == "running")
        .values(
            status="interrupted",
            finished_at=utcnow(),
            error="the sync process ended during the run",
        )
    )


def finish_sync(
    engine: Engine,
    table: Table,
    result: SyncOutcome,
    feed: FetchedFeed | None,
    sent: tuple[str | None, str | None],
    counts: Mapping[str, Any],
) -> None:
    """Close the sync row. Validators are kept only for an applied source: the new
    response's, or after a 304 the ones that were ``sent`` (unless the 304 brought new ones)."""
    etag, last_modified = sent
    if result.status in ("ok", "unchanged") and feed is not None:
        etag, last_modified = feed.etag, feed.last_modified
    elif result.status == "not_modified" and feed is not None:
        etag, last_modified = feed.etag or etag, feed.last_modified or last_modified
    else:
        etag = last_modified = None
    values = {
        "finished_at": utcnow(),
        "status": result.status,
        "http_status": result.http_status,
        "etag": etag,
        "last_modified": last_modified,
        "error": result.error,
        **counts,
    }
    with engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == result.sync_id).values(**values))
