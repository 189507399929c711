"""Effective cost per product: the cheapest in-stock offer, ties to supplier priority."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, insert, select

from repricer.config import Settings, SupplierSettings
from repricer.db.models import Product, Supplier, SupplierOffer, utcnow
from repricer.feeds import sync_feed
from repricer.feeds.effective import _pick, effective_costs
from tests.feeds.conftest import FEEDS


def seed(
    engine: Engine, suppliers: dict[str, int], offers: list[tuple[str, str, Any, Any, bool]]
) -> dict[str, int]:
    """``offers``: (supplier, sku, cost, stock_qty, available); returns product ids by sku."""
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            insert(Supplier),
            [{"name": n, "priority": p, "created_at": now} for n, p in suppliers.items()],
        )
        sup_ids = dict(conn.execute(select(Supplier.name, Supplier.id)).all())
        skus = sorted({o[1] for o in offers} | {"LONELY"})
        conn.execute(
            insert(Product),
            [{"sku": s, "tags": [], "created_at": now, "updated_at": now} for s in skus],
        )
        ids = dict(conn.execute(select(Product.sku, Product.id)).all())
        conn.execute(
            insert(SupplierOffer),
            [
                {
                    "supplier_id": sup_ids[sup],
                    "key": f"{sup}-{sku}",
                    "product_id": ids[sku],
                    "currency": "RUB",
                    "cost": cost,
                    "stock_qty": qty,
                    "available": avail,
                    "seen_at": now,
                    "updated_at": now,
                }
                for sup, sku, cost, qty, avail in offers
            ]
            + [
                {
                    "supplier_id": sup_ids[next(iter(suppliers))],
                    "key": "unmapped",
                    "product_id": None,
                    "currency": "RUB",
                    "cost": 1,
                    "stock_qty": 5,
                    "available": True,
                    "seen_at": now,
                    "updated_at": now,
                }
            ],
        )
    return ids


def by_product(frame: pd.DataFrame, ids: dict[str, int]) -> dict[str, tuple[Any, ...]]:
    names = {v: k for k, v in ids.items()}
    return {
        names[row.product_id]: (row.cost, row.stock_qty, row.available, row.supplier)
        for row in frame.itertuples()
    }


def test_cheapest_in_stock_wins(any_engine: Engine) -> None:
    """Read as columns (COPY on PostgreSQL, the sqlite3 cursor on SQLite): same answers."""
    engine = any_engine
    ids = seed(
        engine,
        {"a": 0, "b": 5, "c": 0},
        [
            ("a", "P1", 1000, 3, True),
            ("b", "P1", 900, 0, True),  # cheaper but stock 0
            ("c", "P1", 950, None, True),  # unknown quantity counts as in stock
            ("a", "P2", 500, 2, True),
            ("b", "P2", 500, 1, True),  # tie: b has the higher priority
            ("a", "P3", 700, 4, False),  # nobody has P3: its cheapest cost, unavailable
            ("b", "P3", 650, 0, True),
            ("a", "P4", None, 9, True),  # no cost is never "in stock"
            ("b", "P4", 800, 1, True),
        ],
    )
    with engine.connect() as conn:
        frame = effective_costs(conn)
    assert list(frame.columns) == [
        "product_id",
        "cost",
        "currency",
        "stock_qty",
        "available",
        "supplier",
    ]
    assert str(frame["cost"].dtype) == "Int64" and str(frame["stock_qty"].dtype) == "Int64"
    assert frame["available"].dtype == bool
    rows = by_product(frame, ids)
    cost, qty, available, supplier = rows["P1"]
    assert (cost, available, supplier) == (950, True, "c") and qty is pd.NA
    assert rows["P2"] == (500, 1, True, "b")
    assert rows["P3"] == (650, 0, False, "b")
    assert rows["P4"] == (800, 1, True, "b")
    assert "LONELY" not in rows and len(rows) == 4  # no offer, no row; unmapped offers ignored


def test_no_offers_gives_an_empty_frame(any_engine: Engine) -> None:
    frame = effective_costs(any_engine)
    assert frame.empty and list(frame.columns)[:2] == ["product_id", "cost"]


def test_after_a_sync(engine: Engine, add_products: Callable[..., None]) -> None:
    add_products("A-1", "A-2", "A-3")
    settings = Settings()
    for name, path, fmt in (
        ("alpha", "offers-utf8.yml", "yml"),
        ("gamma", "price-cp1251.csv", "csv"),
    ):
        supplier = SupplierSettings(name=name, path=FEEDS / path, format=fmt)
        assert sync_feed(settings, engine, supplier).status == "ok"
    with engine.connect() as conn:
        frame = effective_costs(conn).set_index("product_id")
    # alpha 1299.90 (7 in stock), gamma 1189.50 (4). A-2: out of stock at both, so
    # its cheapest known cost (gamma 450.00). A-3: alpha 2500 (5), gamma 2450 (>10).
    assert frame["cost"].tolist() == [118950, 45000, 245000]
    assert frame["supplier"].tolist() == ["gamma", "gamma", "gamma"]
    assert frame["available"].tolist() == [True, False, True]


def _reference(frame: pd.DataFrame, min_stock: dict[str, int], gone: set[str]) -> dict[int, Any]:
    """Per product, a loop: the first offer by (in stock, known cost, cost, -priority,
    supplier), in the frame's order among equals."""
    best: dict[int, Any] = {}
    for row in frame.itertuples():
        qty_ok = pd.isna(row.stock_qty) or row.stock_qty >= max(min_stock.get(row.supplier, 1), 1)
        stocked = bool(row.available and qty_ok and not pd.isna(row.cost)) and (
            row.supplier not in gone
        )
        key = (not stocked, pd.isna(row.cost), 0 if pd.isna(row.cost) else row.cost,
               -row.priority, row.supplier)  # fmt: skip
        if row.product_id not in best or key < best[row.product_id][0]:
            best[row.product_id] = (key, row, stocked)
    return {
        pid: (
            None if pd.isna(r.cost) else r.cost,
            r.stock_qty if ok else 0,
            bool(r.available and ok),
            r.supplier,
        )
        for pid, (_, r, ok) in best.items()
    }


def test_the_best_offer_agrees_with_a_loop_per_product() -> None:
    rng = np.random.default_rng(5)
    n = 400
    suppliers = np.array(["b", "a", "c", "d"], dtype=object)
    chosen = rng.integers(0, 4, n)
    frame = pd.DataFrame(
        {
            "product_id": rng.integers(1, 120, n),
            "cost": pd.arrays.IntegerArray(rng.integers(1, 6, n) * 100, rng.random(n) < 0.1),
            "currency": "RUB",
            "stock_qty": pd.arrays.IntegerArray(rng.integers(0, 4, n), rng.random(n) < 0.2),
            "available": rng.random(n) > 0.2,
            "supplier": suppliers[chosen],
            "priority": np.array([0, 5, 0, 1])[chosen],
        }
    )
    for min_stock, gone in (({}, set()), ({"a": 2, "c": 3}, {"d"})):
        got = _pick(frame, min_stock, gone)
        assert list(got["product_id"]) == sorted(set(frame["product_id"]))
        rows = {
            r.product_id: (
                None if pd.isna(r.cost) else r.cost,
                r.stock_qty,
                r.available,
                r.supplier,
            )
            for r in got.itertuples()
        }
        assert rows == _reference(frame, min_stock, gone)
