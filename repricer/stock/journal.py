"""The stock journal: what was last pushed per product (``stock_states``).

A stock push sends a product only when its wanted stock differs from its journal row
(or the row was written by another connector), and writes the row in the same
transaction that records the batch, so every change of state is pushed once. A crash
between the storefront's answer and that transaction sends that one batch again; setting
absolute stock levels twice is harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import pandas as pd
from sqlalchemy import Engine, Table, bindparam, select, update

from repricer.db.models import StockState, utcnow
from repricer.db.upsert import upsert_rows
from repricer.storefront.base import StockItem

_states = cast(Table, StockState.__table__)


def pushed_states(engine: Engine, connector: str) -> pd.DataFrame:
    """product_id, pushed_quantity (Int64), pushed_in_stock (bool) of ``connector``'s rows."""
    query = select(
        _states.c.product_id,
        _states.c.quantity.label("pushed_quantity"),
        _states.c.in_stock.label("pushed_in_stock"),
    ).where(_states.c.connector == connector)
    with engine.connect() as conn:
        frame = pd.read_sql(query, conn, dtype_backend="numpy_nullable")
    return frame.astype(
        {"product_id": "int64", "pushed_quantity": "Int64", "pushed_in_stock": "boolean"}
    )


def record_pushed(engine: Engine, connector: str, items: Sequence[StockItem]) -> None:
    """Journal the items the storefront accepted (one transaction)."""
    now = utcnow()
    rows = [
        {
            "product_id": i.product_id,
            "connector": connector,
            "quantity": i.quantity,
            "in_stock": i.in_stock,
            "status": "pushed",
            "pushed_at": now,
            "detail": None,
        }
        for i in items
    ]
    with engine.begin() as conn:
        upsert_rows(conn, _states, rows, key=["product_id"])


def record_checked(engine: Engine, checked: Sequence[tuple[int, str, str | None]]) -> None:
    """Write read-back outcomes: (product_id, confirmed | mismatch, what was seen)."""
    if not checked:
        return
    stmt = (
        update(_states)
        .where(_states.c.product_id == bindparam("b_id"))
        .values(status=bindparam("b_status"), detail=bindparam("b_detail"))
    )
    with engine.begin() as conn:
        conn.execute(stmt, [{"b_id": p, "b_status": s, "b_detail": d} for p, s, d in checked])
