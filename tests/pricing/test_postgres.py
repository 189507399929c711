"""The same repricing run on PostgreSQL: inputs query, bulk store, replay."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from repricer.config import Settings
from repricer.db import Base, make_engine
from repricer.pricing import replay_run, reprice
from tests.pricing.conftest import Shop
from tests.pricing.frames import NOW


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    name = f"pricing_{uuid.uuid4().hex[:8]}"
    admin = make_engine(pg_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    engine = make_engine(make_url(pg_url).set(database=name).render_as_string(hide_password=False))
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {name}"))
    admin.dispose()


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
