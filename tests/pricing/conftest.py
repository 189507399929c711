"""A small shop in a real SQLite database: products, supplier offers, competitors,
listings and observations written directly, as the feed sync and the spiders would."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from repricer.config import Settings
from repricer.db import session_scope
from repricer.db.models import (
    Competitor,
    CrawlRun,
    CrawlSiteStats,
    Listing,
    Observation,
    Product,
    Supplier,
    SupplierOffer,
)
from tests.pricing.frames import NOW

RULES = """
[defaults]
min_margin = "12%"
rounding = "ends_in_9"
stale_after = "48h"

[[rule]]
name = "default"
strategy = "beat_lowest"
beat_by = "1%"
"""


class Shop:
    """Factory for rows; every method returns the new row's id."""

    def __init__(self, engine: Engine, now: datetime = NOW) -> None:
        self.engine = engine
        self.now = now
        self._competitors: dict[str, int] = {}
        self._suppliers: dict[str, int] = {}

    def _add(self, row: Any) -> int:
        with session_scope(self.engine) as session:
            session.add(row)
            session.flush()
            return int(row.id)

    def product(self, sku: str, price: int | None = 150000, **values: Any) -> int:
        return self._add(Product(sku=sku, price=price, **values))

    def offer(
        self, product_id: int, cost: int | None, supplier: str = "acme", **values: Any
    ) -> int:
        if supplier not in self._suppliers:
            self._suppliers[supplier] = self._add(Supplier(name=supplier))
        key = f"{supplier}-{product_id}-{len(values)}-{cost}"
        return self._add(
            SupplierOffer(
                supplier_id=self._suppliers[supplier],
                key=key,
                product_id=product_id,
                cost=cost,
                **values,
            )
        )

    def competitor(self, name: str, *, is_self: bool = False) -> int:
        if name not in self._competitors:
            self._competitors[name] = self._add(
                Competitor(name=name, domain=f"{name}.example", is_self=is_self)
            )
        return self._competitors[name]

    def listing(self, product_id: int, competitor: str, **values: Any) -> int:
        comp = self.competitor(competitor)
        return self._add(
            Listing(
                product_id=product_id,
                competitor_id=comp,
                url=f"http://{competitor}/{product_id}/{len(values)}",
                **values,
            )
        )

    def observation(
        self, listing_id: int, price: int | None, *, hours: float = 1, **values: Any
    ) -> int:
        values.setdefault("status", "ok")
        return self._add(
            Observation(
                listing_id=listing_id,
                price=price,
                observed_at=self.now - timedelta(hours=hours),
                **values,
            )
        )

    def crawl(self, competitor: str, *, healthy: bool) -> int:
        run_id = self._add(CrawlRun(status="ok"))
        self._add(
            CrawlSiteStats(
                crawl_run_id=run_id, competitor_id=self.competitor(competitor), healthy=healthy
            )
        )
        return run_id

    def priced(self, sku: str, cost: int, prices: dict[str, int], **values: Any) -> int:
        """A product with one in-stock offer and one fresh observation per competitor."""
        product_id = self.product(sku, **values)
        self.offer(product_id, cost, stock_qty=3)
        for competitor, price in prices.items():
            self.observation(self.listing(product_id, competitor), price, availability="in_stock")
        return product_id


@pytest.fixture
def shop(engine: Engine) -> Shop:
    return Shop(engine)


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "default.toml").write_text(RULES, encoding="utf-8")
    return folder


@pytest.fixture
def pricing_settings(settings_from: Callable[[str], Settings], rules_dir: Path) -> Settings:
    return settings_from(
        f'[pricing]\nrules_dir = "{rules_dir}"\nmax_changed_share = "100%"\nmax_median_change = "100%"\n'
    )


def at(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)
