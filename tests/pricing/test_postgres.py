"""The same repricing run on PostgreSQL: columnar load (COPY), bulk store (COPY), replay."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from repricer.config import Settings
from repricer.pricing import replay_run, reprice
from tests.pricing import golden
from tests.pricing.conftest import Shop
from tests.pricing.frames import NOW

GOLDEN = Path(__file__).parents[1] / "fixtures" / "pricing" / "stored_decisions.json"


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


def test_golden_catalog_on_postgresql_stores_and_replays_the_same(
    pg_engine: Engine, settings_from: Callable[[str], Settings], tmp_path: Path
) -> None:
    """Inputs read with COPY TO STDOUT, changes written with COPY FROM STDIN."""
    folder = tmp_path / "golden-rules"
    folder.mkdir()
    (folder / "golden.toml").write_text(golden.RULES, encoding="utf-8")
    settings = settings_from(
        f'[pricing]\nrules_dir = "{folder}"\nmax_changed_share = "100%"\nmax_median_change = "100%"\n'
    )
    golden.fill_shop(Shop(pg_engine))
    result = reprice(settings, pg_engine, now=NOW)
    stored = golden.stored_decisions(pg_engine, result.run_id)
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert golden.stored_rows(stored) == expected
    replayed = replay_run(pg_engine, result.run_id)
    assert sorted(replayed["sku"]) == [row["sku"] for row in expected]
    prices = replayed.sort_values("sku")["new_price"].astype(object)
    assert [None if p is pd.NA else p for p in prices] == [row["new_price"] for row in expected]
