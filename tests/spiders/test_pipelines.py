"""ObservationStorePipeline: validation, anomalies, mismatches, batches, site health."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select

from repricer.catalog import sync_competitors
from repricer.config import Settings
from repricer.crawl import site_health, start_run
from repricer.db.engine import session_scope
from repricer.db.models import CrawlRun, Listing, Observation, Product
from spiders import pipelines
from spiders.items import ObservationItem
from spiders.pipelines import ObservationStorePipeline, is_mismatch

CONFIG = """
[crawl]
anomaly_threshold = "50%"
unhealthy_share = "30%"
[[competitors]]
name = "a"
domain = "a.example"
[[competitors]]
name = "b"
domain = "b.example"
"""


def _setup(settings: Settings, engine: Engine, listings: int) -> list[int]:
    with session_scope(engine) as session:
        ids = sync_competitors(settings, session)
        product = Product(sku="X", gtin="4006381333931")
        session.add(product)
        session.flush()
        rows = [
            Listing(product_id=product.id, competitor_id=ids["a"], url=f"https://a.example/{i}")
            for i in range(listings)
        ]
        session.add_all(rows)
        session.flush()
        return [r.id for r in rows]


def _item(
    listing: int, competitor: str = "a", status: str = "ok", price: int | None = 1000, **kw: object
) -> ObservationItem:
    return ObservationItem(
        listing, competitor, "https://a.example/", status, price=price, currency="RUB", **kw
    )  # type: ignore[arg-type]


def test_rows_are_validated_flagged_batched_and_health_written(
    settings_from: Callable[[str], Settings], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_from(CONFIG)
    listing_ids = _setup(settings, engine, 12)
    run_id = start_run(engine, ["a", "b"])
    with session_scope(engine) as session:
        session.add(Observation(listing_id=listing_ids[0], status="ok", price=400, currency="RUB"))
    monkeypatch.setattr(pipelines, "BATCH_SIZE", 5)
    monkeypatch.setattr(pipelines, "FLUSH_EVERY_S", 1e9)  # only the batch size stores here
    pipe = ObservationStorePipeline(settings, engine, run_id)
    pipe.open_spider()
    pipe.process_item(_item(listing_ids[0]))  # 400 -> 1000: +150 %
    pipe.process_item(_item(listing_ids[1], gtin="4242002729219", product_gtin="4006381333931"))
    pipe.process_item(_item(listing_ids[2], status="weird"))
    pipe.process_item(_item(listing_ids[3], price=None))
    pipe.process_item(_item(listing_ids[4], price=-5))
    pipe.process_item(_item(listing_ids[5], status="timeout", price=777))
    pipe.process_item(_item(listing_ids[6], old_price=900))
    for lid in listing_ids[7:]:
        pipe.process_item(_item(lid, competitor="b"))
    pipe.process_item({"not": "an observation"})
    with session_scope(engine) as session:
        assert len(session.execute(select(Observation.id)).all()) == 1 + 10  # two batches flushed
    pipe.close_spider()

    with session_scope(engine) as session:
        rows = {
            o.listing_id: o
            for o in session.execute(
                select(Observation).where(Observation.crawl_run_id == run_id)
            ).scalars()
        }
    assert rows[listing_ids[0]].is_anomaly and not rows[listing_ids[6]].is_anomaly
    assert rows[listing_ids[1]].is_mismatch
    assert rows[listing_ids[2]].status == "error" and "weird" in (rows[listing_ids[2]].reason or "")
    assert rows[listing_ids[3]].status == "no_price" and rows[listing_ids[4]].status == "no_price"
    assert rows[listing_ids[5]].status == "timeout" and rows[listing_ids[5]].price is None
    assert rows[listing_ids[6]].old_price is None  # an old price below the price is dropped
    health = {s.competitor: s for s in site_health(engine, run_id)}
    assert (health["a"].ok, health["a"].no_price, health["a"].error, health["a"].anomaly) == (
        3,
        2,
        2,
        1,
    )
    assert not health["a"].healthy  # 5 bad of 7
    assert health["b"].healthy and health["b"].ok == 5


def test_a_slow_crawl_stores_its_pages_as_they_come(
    settings_from: Callable[[str], Settings], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages arriving slower than FLUSH_EVERY_S are stored one by one, not held for a
    batch that a killed crawl would lose; what is pending at close is stored then."""
    settings = settings_from(CONFIG)
    listing_ids = _setup(settings, engine, 4)
    run_id = start_run(engine, ["a"])
    pipe = ObservationStorePipeline(settings, engine, run_id)
    pipe.open_spider()

    def stored() -> int:
        with session_scope(engine) as session:
            return len(session.execute(select(Observation.id)).all())

    monkeypatch.setattr(pipelines, "FLUSH_EVERY_S", 0.0)  # every page is "late"
    pipe.process_item(_item(listing_ids[0]))
    assert stored() == 1
    pipe.process_item(_item(listing_ids[1]))
    assert stored() == 2
    monkeypatch.setattr(pipelines, "FLUSH_EVERY_S", 1e9)
    pipe.process_item(_item(listing_ids[2]))
    pipe.process_item(_item(listing_ids[3]))
    assert stored() == 2  # held for the batch
    pipe.close_spider()
    assert stored() == 4
    with session_scope(engine) as session:
        assert session.get(CrawlRun, run_id).pages == 4  # type: ignore[union-attr]


def test_mismatch_ignores_leading_zeros_and_missing_values() -> None:
    assert not is_mismatch("04006381333931", "4006381333931")
    assert not is_mismatch(None, "4006381333931")
    assert not is_mismatch("4006381333931", None)
    assert is_mismatch("4006381333931", "4242002729219")
