"""Effective cost and stock per product, from all suppliers' current offers.

Per product: the cheapest in-stock offer (``available`` and ``stock_qty`` unknown or
above zero, cost known); a cost tie goes to the supplier with the higher ``priority``.
A product whose offers are all out of stock gets its cheapest known cost with
``available`` False and ``stock_qty`` 0. Products without any offer are absent.
Computed with one columnar query and one lexsort, never a loop per product.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, Table, select
from sqlalchemy.orm import Session

from repricer.db.columnar import read_frame
from repricer.db.models import Supplier, SupplierOffer

COLUMNS = ["product_id", "cost", "currency", "stock_qty", "available", "supplier"]
_offers = cast(Table, SupplierOffer.__table__)
_suppliers = cast(Table, Supplier.__table__)


def effective_costs(conn: Connection | Session | Engine) -> pd.DataFrame:
    """One row per product with offers: product_id (int64), cost (Int64 minor units),
    currency, stock_qty (Int64), available (bool), supplier (name)."""
    if isinstance(conn, Engine):
        with conn.connect() as connection:
            return effective_costs(connection)
    if isinstance(conn, Session):
        return effective_costs(conn.connection())
    stmt = select(
        _offers.c.product_id,
        _offers.c.cost,
        _offers.c.currency,
        _offers.c.stock_qty,
        _offers.c.available,
        _offers.c.supplier_id,
    ).where(_offers.c.product_id.is_not(None))
    dtypes = {
        "product_id": "int64", "cost": "Int64", "currency": "object", "stock_qty": "Int64",
        "available": "bool", "supplier_id": "int64",
    }  # fmt: skip
    offers = read_frame(conn, stmt, dtypes)
    suppliers = conn.execute(
        select(_suppliers.c.id, _suppliers.c.name, _suppliers.c.priority)
    ).all()
    return _pick(offers, {row.id: (row.name, row.priority) for row in suppliers})


def _pick(offers: pd.DataFrame, suppliers: dict[int, tuple[str, int]]) -> pd.DataFrame:
    """The best offer per product, by one lexsort over numeric keys."""
    ids = sorted(suppliers)
    by_name = sorted(ids, key=lambda i: suppliers[i][0])
    index = np.searchsorted(np.array(ids, dtype=np.int64), offers["supplier_id"].to_numpy())
    name_rank = np.empty(len(ids), dtype=np.int64)
    name_rank[[ids.index(i) for i in by_name]] = np.arange(len(ids))
    priority = np.array([suppliers[i][1] for i in ids], dtype=np.int64)[index]
    cost = offers["cost"].array
    no_cost = np.asarray(cost.isna(), dtype=bool)
    stock = offers["stock_qty"].array
    in_stock = (
        offers["available"].to_numpy(dtype=bool)
        & np.asarray(stock.isna() | (stock.fillna(0) > 0), dtype=bool)
        & ~no_cost
    )
    product = offers["product_id"].to_numpy(dtype=np.int64)
    keys = (name_rank[index], -priority, cost.fillna(0).to_numpy(dtype=np.int64))
    order = np.lexsort((*keys, no_cost, ~in_stock, product))
    first = np.ones(len(order), dtype=bool)
    first[1:] = product[order][1:] != product[order][:-1]
    best = order[first]
    chosen = in_stock[best]
    names = np.array([suppliers[i][0] for i in ids] + [""], dtype=object)
    return pd.DataFrame(
        {
            "product_id": product[best],
            "cost": cost[best],
            "currency": offers["currency"].to_numpy(dtype=object)[best],
            "stock_qty": pd.Series(stock[best]).where(chosen, 0).astype("Int64").array,
            "available": offers["available"].to_numpy(dtype=bool)[best] & chosen,
            "supplier": names[index[best]],
        },
        columns=COLUMNS,
    )
