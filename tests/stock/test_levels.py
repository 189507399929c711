"""What each product should show: cheapest in-stock supplier, buffer, own stock, policies."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import Engine, insert, update

from repricer.config import Settings
from repricer.db.models import FeedSync, Product, Supplier, utcnow
from repricer.stock.levels import gone_suppliers, wanted_stock
from tests.storefront.seed import add_offer, add_products

SUPPLIERS = """
[[suppliers]]
name = "acme"
path = "acme.csv"
format = "csv"
min_stock = 2

[[suppliers]]
name = "bolt"
path = "bolt.csv"
format = "csv"
priority = 5
"""


def shown(settings: Settings, engine: Engine) -> dict[str, tuple[int | None, bool]]:
    with engine.connect() as conn:
        frame = wanted_stock(settings, conn)
    return {
        row.sku: (None if pd.isna(row.quantity) else int(row.quantity), bool(row.in_stock))
        for row in frame.itertuples()
    }


@pytest.fixture
def settings(settings_from) -> Settings:
    return settings_from(SUPPLIERS)


CASES = [
    # (offers as (supplier, cost, stock, available), own stock, expected (quantity, in stock))
    ("cheapest in stock wins", [("acme", 900, 7, True), ("bolt", 1000, 3, True)], None, (7, True)),
    (
        "cheaper but out of stock",
        [("acme", 900, 0, True), ("bolt", 1000, 3, True)],
        None,
        (3, True),
    ),
    (
        "buffer: 1 left counts as none",
        [("acme", 900, 1, True), ("bolt", 1000, 4, True)],
        None,
        (4, True),
    ),
    ("buffer: nobody else has it", [("acme", 900, 1, True)], None, (0, False)),
    ("count unknown", [("bolt", 900, None, True)], None, (None, True)),
    ("flag off", [("bolt", 900, 5, False)], None, (0, False)),
    ("own stock adds", [("bolt", 900, 5, True)], 2, (7, True)),
    ("own stock alone", [("bolt", 900, 0, True)], 3, (3, True)),
    ("only own stock known", [], 4, (4, True)),
]


@pytest.mark.parametrize(
    ("offers", "own", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_wanted_stock(settings, engine, offers, own, expected) -> None:
    add_products(engine, ["A"], stock=own)
    for supplier, cost, qty, available in offers:
        add_offer(engine, "A", cost, qty, available, supplier=supplier)
    assert shown(settings, engine)["A"] == expected


def test_priority_breaks_a_cost_tie(settings, engine) -> None:
    add_products(engine, ["A"])
    add_offer(engine, "A", 900, 8, supplier="acme")
    add_offer(engine, "A", 900, 3, supplier="bolt")
    with engine.begin() as conn:  # a sync stores the configured priority
        conn.execute(update(Supplier).where(Supplier.name == "bolt").values(priority=5))
    assert shown(settings, engine)["A"] == (3, True)


def test_nothing_known_is_left_out_and_status_mode_drops_counts(settings_from, engine) -> None:
    add_products(engine, ["A", "B"])
    add_offer(engine, "A", 900, 8, supplier="acme")
    status = settings_from(SUPPLIERS + '[storefront.stock]\nmode = "status"\n')
    assert shown(status, engine) == {"A": (None, True)}


def test_own_stock_can_be_ignored(settings_from, engine) -> None:
    add_products(engine, ["A"], stock=5)
    add_offer(engine, "A", 900, 0, supplier="acme")
    ignoring = settings_from(SUPPLIERS + "[storefront.stock]\nown_stock = false\n")
    assert shown(ignoring, engine) == {"A": (0, False)}


def test_a_vanished_supplier_is_kept_unless_the_policy_says_zero(settings_from, engine) -> None:
    add_products(engine, ["A"])
    add_offer(engine, "A", 900, 8, supplier="acme")
    add_offer(engine, "A", 950, 4, supplier="ghost")  # not in the config any more
    with engine.begin() as conn:
        ids = dict(
            conn.execute(
                Supplier.__table__.select().with_only_columns(Supplier.name, Supplier.id)
            ).all()
        )
        old = utcnow() - timedelta(days=3)
        conn.execute(
            insert(FeedSync),
            [{"supplier_id": ids["acme"], "status": "ok", "finished_at": old, "warnings": []}],
        )
    keep = settings_from(SUPPLIERS)
    assert shown(keep, engine)["A"] == (8, True)
    zero = settings_from(
        SUPPLIERS + '[storefront.stock]\nwhen_supplier_gone = "zero"\nsupplier_gone_after = "1d"\n'
    )
    with engine.connect() as conn:
        assert gone_suppliers(zero, conn) == {"acme", "ghost"}
    assert shown(zero, engine)["A"] == (0, False)
    with engine.begin() as conn:  # acme's feed is applied again: it counts again
        conn.execute(update(FeedSync).values(finished_at=utcnow()))
    assert shown(zero, engine)["A"] == (8, True)
    with engine.begin() as conn:  # the same file again (skipped as unchanged) counts too
        conn.execute(update(FeedSync).values(status="unchanged"))
    assert shown(zero, engine)["A"] == (8, True)
    with engine.begin() as conn:
        conn.execute(update(Product).values(stock=None))
