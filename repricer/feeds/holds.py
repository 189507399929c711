"""Per-item cost moves held for review instead of applied.

A cost that moves beyond the supplier's ``hold_cost_ratio`` (default 2: more than
doubled or less than halved) is more often a typo, a unit mix-up or a cut number than
a real price change, and a floor computed from it would move our price with it. Such
an item keeps its stored cost; the feed's value is kept beside it in
``supplier_offers.held_cost`` until a catalog manager accepts it
(``repricer feeds held --accept``) or a later feed brings a cost within the bound.
Everything else about the item (stock, availability, names) is applied as usual.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, exists, null, select, update

from repricer.db.models import Supplier, SupplierOffer, utcnow
from repricer.feeds.staging import incoming, staged_any, stored_value
from repricer.money import format_money

_offers = cast(Table, SupplierOffer.__table__)
_suppliers = cast(Table, Supplier.__table__)
_SCALE = 10_000  # the ratio is compared in integers, to 0.0001


@dataclass(frozen=True)
class HeldCost:
    """One item whose new cost was held: ``cost`` stays, ``held_cost`` waits (minor units)."""

    supplier: str
    key: str
    currency: str
    cost: int
    held_cost: int
    held_at: datetime | None = None

    def __str__(self) -> str:
        return (
            f"{self.key}: cost {format_money(self.cost, self.currency)} -> "
            f"{format_money(self.held_cost, self.currency)} held for review"
        )


def hold_cost_moves(conn: Connection, supplier_id: int, ratio: Decimal) -> list[HeldCost]:
    """In the staged feed, put back the stored cost of every item whose cost moves
    beyond ``ratio``; return what was held. Call before applying the feed."""
    if not staged_any(conn):
        return []
    scaled = int(ratio * _SCALE)
    pairs = select(
        incoming.c.key,
        incoming.c.currency.label("new_currency"),
        incoming.c.cost.label("new"),
        stored_value(supplier_id, _offers.c.currency).label("currency"),
        stored_value(supplier_id, _offers.c.cost).label("old"),
    ).subquery()
    beyond = (pairs.c.new * _SCALE > pairs.c.old * scaled) | (
        pairs.c.new * scaled < pairs.c.old * _SCALE
    )
    rows = conn.execute(
        select(pairs.c.key, pairs.c.currency, pairs.c.old, pairs.c.new)
        .where(pairs.c.old > 0, pairs.c.new_currency == pairs.c.currency, beyond)
        .order_by(pairs.c.key)
    ).all()
    held = [HeldCost("", key, currency, old, new) for key, currency, old, new in rows]
    for item in held:
        # Not applied whole: no fingerprint, so the item is read again next time.
        conn.execute(
            update(incoming)
            .where(incoming.c.key == item.key)
            .values(cost=item.cost, feed_fp=null())
        )
    return held


def record_holds(
    conn: Connection,
    supplier_id: int,
    held: Sequence[HeldCost],
    now: datetime,
    *,
    held_before: bool = True,
) -> None:
    """After the feed is applied: mark the held items (an item held again at the same
    cost keeps the time it was first held), and clear an earlier hold on every other
    item of the feed (its cost is now the feed's own). ``held_before`` False: no item
    of the supplier had a cost held, nothing to clear."""
    if not staged_any(conn) or not (held or held_before):
        return
    in_feed = exists().where(incoming.c.key == _offers.c.key)
    clear = update(_offers).where(
        _offers.c.supplier_id == supplier_id, _offers.c.held_cost.is_not(None), in_feed
    )
    if held:
        clear = clear.where(_offers.c.key.not_in([h.key for h in held]))
    conn.execute(clear.values(held_cost=null(), held_at=null()))
    for item in held:
        conn.execute(
            update(_offers)
            .where(
                _offers.c.supplier_id == supplier_id,
                _offers.c.key == item.key,
                _offers.c.held_cost.is_distinct_from(item.held_cost),
            )
            .values(held_cost=item.held_cost, held_at=now)
        )


def list_held(engine: Engine, supplier: str | None = None) -> list[HeldCost]:
    """Every item with a cost waiting for review, by supplier and key."""
    query = (
        select(
            _suppliers.c.name,
            _offers.c.key,
            _offers.c.currency,
            _offers.c.cost,
            _offers.c.held_cost,
            _offers.c.held_at,
        )
        .join(_suppliers, _suppliers.c.id == _offers.c.supplier_id)
        .where(_offers.c.held_cost.is_not(None))
        .order_by(_suppliers.c.name, _offers.c.key)
    )
    if supplier is not None:
        query = query.where(_suppliers.c.name == supplier)
    with engine.connect() as conn:
        return [HeldCost(*row) for row in conn.execute(query)]


def accept_held(engine: Engine, supplier: str, keys: Sequence[str]) -> int:
    """Apply the held cost of ``keys`` (all held items of the supplier when empty);
    returns how many were accepted."""
    with engine.begin() as conn:
        supplier_id = conn.execute(
            select(_suppliers.c.id).where(_suppliers.c.name == supplier)
        ).scalar_one_or_none()
        if supplier_id is None:
            return 0
        stmt: Any = update(_offers).where(
            _offers.c.supplier_id == supplier_id, _offers.c.held_cost.is_not(None)
        )
        if keys:
            stmt = stmt.where(_offers.c.key.in_(list(keys)))
        result = conn.execute(
            stmt.values(
                cost=_offers.c.held_cost,
                held_cost=null(),
                held_at=null(),
                feed_fp=null(),  # the row is no longer what the feed said: read it again
                updated_at=utcnow(),
            )
        )
        return int(result.rowcount or 0)
