from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect

from repricer.db import Base, make_engine
from repricer.db.migrate import alembic_config, current_revision, downgrade, head_revision, upgrade

EXPECTED_TABLES = {t.name for t in Base.metadata.sorted_tables}


def _roundtrip(url: str) -> None:
    assert upgrade(url) == head_revision(url)
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) >= EXPECTED_TABLES
    engine.dispose()
    command.check(alembic_config(url))  # raises when the models drift from the migrations
    assert downgrade(url, "base") is None
    engine = make_engine(url)
    assert not EXPECTED_TABLES & set(inspect(engine).get_table_names())
    engine.dispose()
    assert upgrade(url) == head_revision(url)  # and back up again


def test_schema_covers_the_data_flow() -> None:
    assert {
        "products",
        "suppliers",
        "supplier_offers",
        "feed_syncs",
        "competitors",
        "listings",
        "observations",
        "crawl_runs",
        "crawl_site_stats",
        "repricing_runs",
        "price_changes",
        "push_attempts",
        "job_runs",
    } <= EXPECTED_TABLES


def test_sqlite_upgrade_check_downgrade(tmp_path: Path) -> None:
    _roundtrip(f"sqlite:///{tmp_path / 'm.db'}")


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    engine.dispose()


def test_postgresql_upgrade_check_downgrade(pg_url: str) -> None:
    _roundtrip(pg_url)
    assert current_revision(pg_url) == head_revision(pg_url)


@pytest.mark.parametrize("name", sorted(EXPECTED_TABLES))
def test_constraint_names_follow_convention(name: str) -> None:
    table = Base.metadata.tables[name]
    assert table.primary_key.name == f"pk_{name}"
