"""Effective cost and stock per product, from all suppliers' current offers.

Per product: the cheapest in-stock offer (``available`` and ``stock_qty`` unknown or
above zero, cost known); a cost tie goes to the supplier with the higher ``priority``.
A product whose offers are all out of stock gets its cheapest known cost with
``available`` False and ``stock_qty`` 0. Products without any offer are absent.
For the storefront's stock (:mod:`repricer.stock.levels`) two adjustments may apply
first: a supplier's ``min_stock`` (fewer units count as none) and suppliers taken as
gone (all their offers count as out of stock).
Computed with one query read as columns (:func:`repricer.db.columnar.read_frame`: COPY
on PostgreSQL, the sqlite3 cursor on SQLite; no ORM rows) and a vectorised sort, never a
loop per product.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import cast

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import Connection, Engine, Table, select
from sqlalchemy.orm import Session

from repricer.db.columnar import read_frame
from repricer.db.models import Supplier, SupplierOffer

COLUMNS = ["product_id", "cost", "currency", "stock_qty", "available", "supplier"]
_offers = cast(Table, SupplierOffer.__table__)
_suppliers = cast(Table, Supplier.__table__)
_DTYPES = {
    "product_id": "int64", "cost": "Int64", "currency": "object", "stock_qty": "Int64",
    "available": "bool", "supplier_id": "int64",
}  # fmt: skip


def effective_costs(
    conn: Connection | Session | Engine,
    *,
    min_stock: Mapping[str, int] | None = None,
    gone: Collection[str] = (),
) -> pd.DataFrame:
    """One row per product with offers: product_id (int64), cost (Int64 minor units),
    currency, stock_qty (Int64), available (bool), supplier (name).

    ``min_stock`` maps supplier name -> the fewest units that count as in stock;
    offers of suppliers in ``gone`` count as out of stock."""
    if isinstance(conn, Engine):
        with conn.connect() as connection:
            frame = _read_offers(connection)
    else:
        frame = _read_offers(conn if isinstance(conn, Connection) else conn.connection())
    return _pick(frame, min_stock or {}, gone)


def _read_offers(conn: Connection) -> pd.DataFrame:
    """Offers with a product, each with its supplier's name and priority (looked up
    from the few suppliers by id: no text per offer crosses the driver)."""
    stmt = select(
        _offers.c.product_id,
        _offers.c.cost,
        _offers.c.currency,
        _offers.c.stock_qty,
        _offers.c.available,
        _offers.c.supplier_id,
    ).where(_offers.c.product_id.is_not(None))
    frame = read_frame(conn, stmt, _DTYPES)
    suppliers = conn.execute(select(_suppliers.c.id, _suppliers.c.name, _suppliers.c.priority))
    rows = sorted(suppliers, key=lambda row: int(row.id))
    found = pd.Index([int(row.id) for row in rows]).get_indexer(pd.Index(frame.pop("supplier_id")))
    names = np.array([row.name for row in rows] + [None], dtype=object)
    priorities = np.array([int(row.priority) for row in rows] + [0], dtype=np.int64)
    frame["supplier"], frame["priority"] = names[found], priorities[found]
    return frame[frame["supplier"].notna()]  # an offer of a supplier gone meanwhile


def _pick(frame: pd.DataFrame, min_stock: Mapping[str, int], gone: Collection[str]) -> pd.DataFrame:
    frame = frame.astype(
        {"product_id": "int64", "cost": "Int64", "stock_qty": "Int64", "available": "bool"}
    )
    # per supplier, looked up for the few names (a map over a million texts costs more)
    supplier, names = pd.factorize(frame["supplier"], sort=True)
    fewest = np.array([max(min_stock.get(name, 1), 1) for name in names] + [1])[supplier]
    away = np.array([name in gone for name in names] + [False], dtype=bool)[supplier]
    cost, stock_qty = frame["cost"], frame["stock_qty"]
    counted = stock_qty.isna() | (stock_qty >= fewest)
    in_stock = (frame["available"] & counted & cost.notna()).to_numpy(dtype=bool) & ~away
    rows = _best_rows(frame, supplier, in_stock)
    best = frame.iloc[rows].reset_index(drop=True)
    out_of_stock = ~in_stock[rows]
    best.loc[out_of_stock, "available"] = False
    best["stock_qty"] = best["stock_qty"].mask(out_of_stock, 0)
    return best[COLUMNS]


def _best_rows(
    frame: pd.DataFrame, supplier: npt.NDArray[np.intp], in_stock: npt.NDArray[np.bool_]
) -> npt.NDArray[np.intp]:
    """The position of each product's best offer, by product id: in stock first, then
    a known cost, the lower cost, the higher priority, the supplier's name (``supplier``:
    codes in name order); one sort of integer keys, and none when every product has one
    offer."""
    product = frame["product_id"].to_numpy(dtype=np.int64)
    by_product = np.argsort(product, kind="stable")
    if (np.diff(product[by_product]) != 0).all():
        return by_product
    no_cost = frame["cost"].isna().to_numpy(dtype=bool)
    cost = frame["cost"].to_numpy(dtype=np.int64, na_value=0)
    priority = frame["priority"].to_numpy(dtype=np.int64)
    order = np.lexsort((supplier, -priority, cost, no_cost, ~in_stock, product))
    first = np.ones(len(order), dtype=bool)
    first[1:] = product[order][1:] != product[order][:-1]
    rows: npt.NDArray[np.intp] = order[first]
    return rows
