"""The same sync on PostgreSQL: staging table, set-based diff, guards, effective cost."""

from __future__ import annotations

from sqlalchemy import Engine

from repricer.config import Settings, SupplierSettings
from repricer.db.models import Product, utcnow
from repricer.feeds import sync_feed
from repricer.feeds.effective import effective_costs
from tests.feeds.conftest import FEEDS, stored_offers


def test_sync_on_postgresql(pg_engine: Engine, tmp_path: object) -> None:
    now = utcnow()
    with pg_engine.begin() as conn:
        conn.execute(
            Product.__table__.insert(),
            [
                {"sku": s, "tags": [], "created_at": now, "updated_at": now}
                for s in ("A-1", "A-2", "A-3")
            ],
        )
    settings = Settings()
    alpha = SupplierSettings(name="alpha", path=FEEDS / "offers-utf8.yml", format="yml")
    first = sync_feed(settings, pg_engine, alpha)
    assert (first.status, first.seen, first.changed, first.unmapped, first.skipped) == (
        "ok",
        4,
        4,
        1,
        3,
    )
    again = sync_feed(settings, pg_engine, alpha)
    assert (again.status, again.changed) == ("unchanged", 0)
    gamma = SupplierSettings(name="gamma", path=FEEDS / "price-cp1251.csv", format="csv")
    assert sync_feed(settings, pg_engine, gamma).duplicates == 1
    before = stored_offers(pg_engine, "alpha")
    shrunk = alpha.model_copy(update={"path": FEEDS / "offers-cp1251.yml", "key": "vendorCode"})
    rejected = sync_feed(settings, pg_engine, shrunk)  # every known key vanishes
    assert rejected.status == "rejected" and "missing from the feed" in (rejected.error or "")
    assert stored_offers(pg_engine, "alpha") == before
    with pg_engine.connect() as conn:
        frame = effective_costs(conn)
    assert sorted(frame["cost"].tolist()) == [45000, 118950, 245000]
