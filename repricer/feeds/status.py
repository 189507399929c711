"""Where each supplier feed stands: its last sync, how long ago, what it did.

One row per supplier for its full feed (``kind`` ``feed``, from ``feed_syncs``) and one
more for a supplier with a stock-only source (``kind`` ``stock``, from ``stock_syncs``;
``missing``/``unmapped`` do not apply to it and stay empty, ``unknown`` counts its keys
with no offer).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Engine, Table, func, select

from repricer.config import Settings, SupplierSettings
from repricer.db.models import FeedSync, StockSync, Supplier, SupplierOffer, utcnow
from repricer.feeds.run import APPLIED

STATUS_COLUMNS = [
    "supplier",
    "kind",
    "status",
    "finished_at",
    "age_s",
    "seen",
    "changed",
    "missing",
    "skipped",
    "unmapped",
    "unknown",
    "offers",
    "available",
    "due",
    "error",
]
_syncs = cast(Table, FeedSync.__table__)
_stock_syncs = cast(Table, StockSync.__table__)
_suppliers = cast(Table, Supplier.__table__)
_offers = cast(Table, SupplierOffer.__table__)


def feed_status(
    settings: Settings, engine: Engine, now: datetime | None = None
) -> list[dict[str, Any]]:
    """One row per configured supplier (and one more per stock-only source): the last
    sync's status and counts, its age in seconds, the stored offers (total and
    available), and ``due`` when the last applied sync is older than the supplier's
    ``every`` (``stock_every`` for a stock source) or there never was one."""
    now = now or utcnow()
    with engine.connect() as conn:
        ids = dict(conn.execute(select(_suppliers.c.name, _suppliers.c.id)).all())
        rows = []
        for supplier in settings.suppliers:
            rows.append(_status_row(conn, supplier, ids.get(supplier.name), "feed", now))
            if supplier.has_stock_source:
                rows.append(_status_row(conn, supplier, ids.get(supplier.name), "stock", now))
    return rows


def _status_row(
    conn: Any, supplier: SupplierSettings, supplier_id: int | None, kind: str, now: datetime
) -> dict[str, Any]:
    table, every = (
        (_syncs, supplier.every) if kind == "feed" else (_stock_syncs, supplier.stock_every)
    )
    row: dict[str, Any] = dict.fromkeys(STATUS_COLUMNS)
    row.update(supplier=supplier.name, kind=kind, status="never", due=True, offers=0, available=0)
    if supplier_id is not None:
        row.update(_last_sync(conn, table, supplier_id, now))
        row.update(_offer_counts(conn, supplier_id))
        applied = _last_applied(conn, table, supplier_id)
        row["due"] = applied is None or now - applied >= every
    return row


def _last_sync(conn: Any, table: Table, supplier_id: int, now: datetime) -> dict[str, Any]:
    last = conn.execute(
        select(table).where(table.c.supplier_id == supplier_id).order_by(table.c.id.desc()).limit(1)
    ).first()
    if last is None:
        return {}
    finished = _aware(last.finished_at)
    counts = ("seen", "changed", "missing", "skipped", "unmapped", "unknown", "error")
    return {
        "status": last.status,
        "finished_at": finished.isoformat(timespec="seconds") if finished else None,
        "age_s": int((now - (finished or _aware(last.started_at) or now)).total_seconds()),
        **{k: getattr(last, k) for k in counts if k in table.c},
    }


def _offer_counts(conn: Any, supplier_id: int) -> dict[str, int]:
    total, available = conn.execute(
        select(func.count(), func.count().filter(_offers.c.available)).where(
            _offers.c.supplier_id == supplier_id
        )
    ).one()
    return {"offers": int(total), "available": int(available)}


def _last_applied(conn: Any, table: Table, supplier_id: int) -> datetime | None:
    value = conn.execute(
        select(table.c.finished_at)
        .where(table.c.supplier_id == supplier_id, table.c.status.in_(APPLIED))
        .order_by(table.c.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return _aware(value)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; they are UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
