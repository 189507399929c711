"""The push journal: ``push_attempts`` rows and the state moves they record.

Each function writes in ONE transaction, so a crash (even ``kill -9``) leaves either
everything a batch did recorded or nothing of it — in which case its changes are still
``approved`` and the next push sends them again (at most the batch that was in flight).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, Table, bindparam, insert, update

from repricer.db.models import PriceChange, Product, PushAttempt, utcnow
from repricer.redact import redact
from repricer.storefront.base import PushItem, PushResult


@dataclass(frozen=True)
class Entry:
    """One push_attempts row to write."""

    change_id: int
    status: str  # pushed | failed | held | confirmed | mismatch
    price: int | None
    http_status: int | None = None
    error: str | None = None


def _table(model: type[object]) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


def write_entries(
    conn: Connection, connector: str, batch: str | None, entries: Sequence[Entry]
) -> None:
    """Insert push_attempts rows (executemany)."""
    if not entries:
        return
    now = utcnow()
    rows = [
        {
            "price_change_id": e.change_id,
            "attempted_at": now,
            "connector": connector,
            "batch": batch,
            "status": e.status,
            "price": e.price,
            "http_status": e.http_status,
            "error": redact(e.error)[:2000] if e.error else None,
        }
        for e in entries
    ]
    conn.execute(insert(_table(PushAttempt)), rows)


def set_status(conn: Connection, change_ids: Sequence[int], status: str) -> None:
    """Move price_changes to ``status``."""
    if not change_ids:
        return
    table = _table(PriceChange)
    stmt = update(table).where(table.c.id == bindparam("b_id")).values(status=status)
    conn.execute(stmt, [{"b_id": i} for i in change_ids])


def record_batch(
    engine: Engine,
    connector: str,
    batch: str,
    items: Sequence[PushItem],
    results: Sequence[PushResult],
) -> tuple[list[PushItem], list[Entry]]:
    """Record what the storefront said about one batch; returns (accepted items, failures).

    Accepted: attempt ``pushed``, change status ``pushed``, ``products.price`` set.
    Failed (or missing from ``results``): attempt ``failed``; the change stays approved.
    """
    by_id = {r.change_id: r for r in results}
    accepted: list[PushItem] = []
    entries: list[Entry] = []
    for item in items:
        result = by_id.get(item.change_id) or PushResult(item.change_id, False, None, "no result")
        status = "pushed" if result.ok else "failed"
        entries.append(Entry(item.change_id, status, item.price, result.http_status, result.error))
        if result.ok:
            accepted.append(item)
    products = _table(Product)
    with engine.begin() as conn:
        write_entries(conn, connector, batch, entries)
        set_status(conn, [i.change_id for i in accepted], "pushed")
        if accepted:
            stmt = (
                update(products)
                .where(products.c.id == bindparam("b_id"))
                .values(price=bindparam("b_price"), updated_at=utcnow())
            )
            conn.execute(stmt, [{"b_id": i.product_id, "b_price": i.price} for i in accepted])
    return accepted, [e for e in entries if e.status == "failed"]
