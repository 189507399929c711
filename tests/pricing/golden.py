"""A varied catalog in a real database, and the decisions a run stored for it.

``fill_shop`` writes about a hundred products covering every strategy, behaviour and
guard of :data:`RULES`; ``tests/fixtures/pricing/stored_decisions.json`` holds what a
run stored for them before runs kept only changes, so a test can check that the
stored decisions stay the same.
"""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import Engine, select

from repricer.db.models import PriceChange
from repricer.pricing.stored_explanations import fill_explanations
from tests.pricing.conftest import Shop

RULES = """
[defaults]
min_margin = "12%"
fixed_fee = "30 RUB"
max_markup = "150%"
max_change = "15%"
rounding = "ends_in_9"
min_delta = "5 RUB"
stale_after = "48h"
no_competitors = "cost_plus"
markup = "25%"
all_out_of_stock = "ceiling"
we_out_of_stock = "skip"
raise_back = "10%"

[[rule]]
name = "phones"
match = { category = "phones" }
strategy = "position"
rank = 2
beat_by = "10 RUB"

[[rule]]
name = "accessories"
match = { category = "accessories" }
strategy = "follow"
competitor = "dns"
adjust = "-2%"

[[rule]]
name = "median"
match = { tag = "premium" }
strategy = "match_median"
max_change_action = "approve"

[[rule]]
name = "kitchen"
match = { category = "kitchen" }
strategy = "beat_lowest"
beat_by = "1%"

[[rule]]
name = "tv"
match = { category = "tv" }
strategy = "cost_plus"
rounding = "whole"
"""
COMPETITORS = ("citilink", "dns", "mvideo", "ozon")
CATEGORIES = ("phones", "accessories", "kitchen", "tv", "other")
STORED = ("proposed", "needs_approval", "skipped")
COMPARED = (
    "sku", "old_price", "new_price", "cost", "floor", "ceiling", "reference_price",
    "reference_competitor", "rule", "strategy", "guards", "flags", "status", "explanation",
)  # fmt: skip


def fill_shop(shop: Shop, n: int = 120, seed: int = 5) -> None:
    """``n`` products with random prices, costs, stock and observations (seeded)."""
    rng = random.Random(seed)
    for i in range(n):
        level = rng.randrange(5_000, 500_000)
        values: dict[str, Any] = {
            "category": rng.choice(CATEGORIES),
            "tags": ["premium"] if rng.random() < 0.15 else [],
            "stock": rng.choice([None, None, 0, 4]),
            "map_price": level * 70 // 100 if rng.random() < 0.2 else None,
            "max_price": level * 2 if rng.random() < 0.3 else None,
        }
        price = None if rng.random() < 0.05 else level * rng.randrange(85, 120) // 100
        product_id = shop.product(f"G{i:03d}", price=price, **values)
        if rng.random() < 0.9:
            shop.offer(product_id, level * rng.randrange(50, 95) // 100, stock_qty=3)
        for competitor in rng.sample(COMPETITORS, rng.randrange(0, 5)):
            listing = shop.listing(product_id, competitor)
            shop.observation(
                listing,
                level * rng.randrange(80, 120) // 100,
                hours=rng.choice([1, 5, 30, 60]),
                availability=rng.choice(["in_stock", "in_stock", "out_of_stock", "unknown"]),
            )


def stored_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The compared fields of the rows a run keeps, by SKU."""
    kept = [{k: row[k] for k in COMPARED} for row in rows if row["status"] in STORED]
    return sorted(kept, key=lambda row: str(row["sku"]))


def stored_decisions(engine: Engine, run_id: int) -> list[dict[str, Any]]:
    """The compared fields of the rows run ``run_id`` stored, explanations rendered as
    shown (the database holds none)."""
    with engine.connect() as conn:
        query = select(PriceChange.__table__).where(PriceChange.run_id == run_id)
        rows = [dict(row) for row in conn.execute(query).mappings()]
        assert all(row["explanation"] == "" for row in rows)
        fill_explanations(conn, rows)
    return [{c: row[c] for c in COMPARED} for row in rows]
