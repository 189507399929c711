"""The stock each product should show on the storefront, computed over the whole catalog.

Per product, from :func:`repricer.feeds.effective.effective_costs`: the cheapest in-stock
supplier offer (a cost tie goes to the higher ``priority``) gives the quantity, where

- an offer with fewer units than its supplier's ``min_stock`` counts as out of stock
  (the safety buffer: ``min_stock = 2`` shows 0 when the supplier has 1 left);
- with ``[storefront.stock] when_supplier_gone = "zero"``, every offer of a supplier
  whose feed has not been applied for ``supplier_gone_after`` (or that is no longer in
  the config) counts as out of stock; with ``"keep"`` (the default) its last known
  stock stays, so a feed that vanishes never zeroes the storefront by itself.

With ``own_stock`` our own ``products.stock`` adds to the supplier's quantity and keeps
a product in stock on its own. ``quantity`` is NA when the product is in stock but no
count is known, and always NA in ``mode = "status"``. Products with no offer and no
own stock are left out: nothing is known, so nothing is pushed for them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

import pandas as pd
from sqlalchemy import Connection, Table, func, select, union_all

from repricer.config import Settings
from repricer.db.models import FeedSync, Product, StockSync, Supplier, utcnow
from repricer.feeds.effective import effective_costs
from repricer.feeds.run import APPLIED  # an unchanged feed still says the supplier is there

COLUMNS = ["product_id", "sku", "storefront_id", "quantity", "in_stock"]
_products = cast(Table, Product.__table__)
_suppliers = cast(Table, Supplier.__table__)
_feed_syncs = cast(Table, FeedSync.__table__)
_stock_syncs = cast(Table, StockSync.__table__)


def wanted_stock(settings: Settings, conn: Connection) -> pd.DataFrame:
    """One row per product with something known: product_id (int64), sku,
    storefront_id, quantity (Int64, NA = no count), in_stock (bool)."""
    stock = settings.storefront.stock
    min_stock = {s.name: s.min_stock for s in settings.suppliers if s.min_stock}
    gone = gone_suppliers(settings, conn) if stock.when_supplier_gone == "zero" else set()
    offers = effective_costs(conn, min_stock=min_stock, gone=gone)
    products = pd.read_sql(
        select(_products.c.id, _products.c.sku, _products.c.storefront_id, _products.c.stock),
        conn,
        dtype_backend="numpy_nullable",
    ).rename(columns={"id": "product_id", "stock": "own"})
    supply = offers[["product_id", "stock_qty", "available"]]
    frame = products.merge(supply, on="product_id", how="left")
    own = frame["own"].astype("Int64").clip(lower=0)
    if not stock.own_stock:
        own = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    supplied = frame["available"].astype("boolean").fillna(False).astype(bool)
    supplier_qty = frame["stock_qty"].astype("Int64").where(supplied, 0)
    known = frame["available"].notna() | own.notna()
    in_stock = supplied | (own.fillna(0) > 0)
    quantity = supplier_qty.fillna(0) + own.fillna(0)
    quantity = quantity.mask(supplied & supplier_qty.isna())  # in stock, count unknown
    if stock.mode == "status":
        quantity = quantity.mask(quantity.notna())
    frame = frame.assign(quantity=quantity.astype("Int64"), in_stock=in_stock.astype(bool))
    return frame.loc[known.astype(bool), COLUMNS].reset_index(drop=True)


def gone_suppliers(settings: Settings, conn: Connection, now: datetime | None = None) -> set[str]:
    """Suppliers whose feed (full or stock-only) was last applied longer than
    ``supplier_gone_after`` ago, never, or that are no longer in the config."""
    cutoff = (now or utcnow()) - settings.storefront.stock.supplier_gone_after
    applied = union_all(
        select(_feed_syncs.c.supplier_id, _feed_syncs.c.finished_at).where(
            _feed_syncs.c.status.in_(APPLIED)
        ),
        select(_stock_syncs.c.supplier_id, _stock_syncs.c.finished_at).where(
            _stock_syncs.c.status.in_(APPLIED)
        ),
    ).subquery()
    last = (
        select(applied.c.supplier_id, func.max(applied.c.finished_at).label("last"))
        .group_by(applied.c.supplier_id)
        .subquery()
    )
    rows = conn.execute(
        select(_suppliers.c.name, last.c.last).outerjoin(
            last, last.c.supplier_id == _suppliers.c.id
        )
    ).all()
    configured = {s.name for s in settings.suppliers}
    return {
        name
        for name, when in rows
        if name not in configured or when is None or _aware(when) < cutoff
    }


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
