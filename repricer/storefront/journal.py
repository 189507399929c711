"""The push journal: ``push_attempts`` rows and the state moves they record.

Each function writes in ONE transaction, and every state move is a compare-and-set
(:func:`repricer.states.move`). A batch is claimed (``approved -> pushing``) in its own
transaction before it is sent, and its outcome recorded (``pushing -> pushed | failed``)
in one transaction after; a crash (even ``kill -9``) in between leaves the batch
``pushing``, which the next push gives back (``pushing -> approved``, attempt
``interrupted``) and sends again: at most the batch in flight reaches the storefront
twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, Table, bindparam, insert, update

from repricer.db.models import Product, PushAttempt, utcnow
from repricer.redact import redact
from repricer.states import move
from repricer.storefront.base import PushItem, PushResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    """One push_attempts row to write."""

    change_id: int
    status: str  # pushed | failed | held | confirmed | mismatch | interrupted
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


def claim(engine: Engine, change_ids: Sequence[int]) -> set[int]:
    """Claim changes for sending (``approved -> pushing``); returns the ids claimed. A
    change rejected, expired or superseded since it was selected is not claimed."""
    with engine.begin() as conn:
        return set(move(conn, change_ids, "approved", "pushing"))


def record_batch(
    engine: Engine,
    connector: str,
    batch: str,
    items: Sequence[PushItem],
    results: Sequence[PushResult],
) -> tuple[list[PushItem], list[Entry]]:
    """Record what the storefront said about one batch; returns (accepted items, failures).

    Accepted: attempt ``pushed``, change ``pushing -> pushed``, ``products.price`` set.
    Failed (or missing from ``results``): attempt ``failed``, change ``pushing -> failed``
    (the next push retries it).
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
        accepted_ids = [i.change_id for i in accepted]
        if move(conn, accepted_ids, "pushing", "pushed") != sorted(set(accepted_ids)):
            log.warning("push: some changes were no longer claimed by this push when recorded")
        move(conn, [e.change_id for e in entries if e.status == "failed"], "pushing", "failed")
        if accepted:
            stmt = (
                update(products)
                .where(products.c.id == bindparam("b_id"))
                .values(price=bindparam("b_price"), updated_at=utcnow())
            )
            conn.execute(stmt, [{"b_id": i.product_id, "b_price": i.price} for i in accepted])
    return accepted, [e for e in entries if e.status == "failed"]
