"""The same repricing run on PostgreSQL: inputs query, bulk store, replay."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from repricer.config import Settings
from repricer.pricing import replay_run, reprice
from tests.pricing.conftest import Shop
from tests.pricing.frames import NOW


def test_reprice_on_postgresql(
    pg_engine: Engine, settings_from: Callable[[str], Settings], rules_dir: Path
) -> None:
    settings = settings_from(f'[pricing]\nrules_dir = "{rules_dir}"\nmax_changed_share = "100%"\n')
    shop = Shop(pg_engine)
    shop.priced("A", 108000, {"citilink": 134900, "dns": 140000})
    p = shop.priced("B", 50000, {"dns": 90000})
    shop.observation(shop.listing(p, "sick"), 1000, crawl_run_id=shop.crawl("sick", healthy=False))
    result = reprice(settings, pg_engine, apply=True, now=NOW)
    decided = result.decisions.set_index("sku")
    assert (
        decided.loc["A", "new_price"] == 133900
        and decided.loc["B", "reference_competitor"] == "dns"
    )
    replayed = replay_run(pg_engine, result.run_id).set_index("sku")
    assert list(replayed["new_price"]) == list(decided["new_price"])
