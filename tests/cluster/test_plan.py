"""The parts of a Scrapyd crawl that need no Scrapyd: shard plans, the egg, the
settings a node gets, config validation and ``repricer doctor``."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, insert
from typer.testing import CliRunner

from repricer.catalog import sync_competitors
from repricer.cli import app
from repricer.cluster.egg import build_egg
from repricer.cluster.node import node_payload, settings_from_payload
from repricer.cluster.shards import ShardPlan, plan_shards
from repricer.config import Settings
from repricer.crawl import SCRAPY_SETTINGS_MODULE
from repricer.db.engine import session_scope
from repricer.db.models import Listing, Product
from repricer.exceptions import ConfigError

COMPETITORS = """
[[competitors]]
name = "big"
domain = "big.example"

[[competitors]]
name = "small"
domain = "small.example"

[[competitors]]
name = "empty"
domain = "empty.example"
"""


def _seed(engine: Engine, settings: Settings, listings: dict[str, list[str]]) -> None:
    skus = sorted({sku for skus in listings.values() for sku in skus})
    with session_scope(engine) as session:
        ids = sync_competitors(settings, session)
        session.execute(insert(Product), [{"sku": s} for s in skus])
        products = {p.sku: p.id for p in session.query(Product)}
        session.execute(insert(Listing), [
            {"product_id": products[sku], "competitor_id": ids[name], "url": f"https://x/{sku}/{i}"}
            for name, skus in listings.items() for i, sku in enumerate(skus)
        ])  # fmt: skip


def test_a_large_competitor_is_split_by_sku_range_and_a_sku_never_straddles(
    engine: Engine, settings_from: Callable[[str], Settings]
) -> None:
    settings = settings_from(COMPETITORS)
    big = [f"A{i:03d}" for i in range(10)] + ["A004"]  # listed twice: two pages for one SKU
    _seed(engine, settings, {"big": big, "small": ["A001", "A002"]})

    plans = plan_shards(engine, ["big", "small", "empty"], shard_size=4)

    assert plans == [
        ShardPlan("big", "A000", "A003", 4),
        ShardPlan("big", "A004", "A006", 4),  # A004 twice, both in one shard
        ShardPlan("big", "A007", "A009", 3),
        ShardPlan("small", None, None, 2),
    ]  # the competitor without listings gets no shard


def test_only_the_asked_skus_are_planned(
    engine: Engine, settings_from: Callable[[str], Settings]
) -> None:
    settings = settings_from(COMPETITORS)
    _seed(engine, settings, {"big": ["A1", "A2", "A3"]})
    assert plan_shards(engine, ["big"], 10, skus=["A2"]) == [ShardPlan("big", None, None, 1)]


def test_the_egg_carries_the_spiders_and_scrapys_entry_point() -> None:
    egg = build_egg()
    assert egg == build_egg()  # the same sources give the same version and bytes
    with zipfile.ZipFile(io.BytesIO(egg.data)) as archive:
        names = set(archive.namelist())
        entry_points = archive.read("EGG-INFO/entry_points.txt").decode()
    assert {"spiders/settings.py", "spiders/spiders/product.py", "spiders/pipelines.py"} <= names
    assert not any("__pycache__" in n for n in names)
    assert f"settings = {SCRAPY_SETTINGS_MODULE}" in entry_points
    assert all(c.isalnum() or c in "_-" for c in egg.version)  # kept as-is by Scrapyd


def test_a_node_gets_the_crawl_settings_but_the_database_from_its_environment(
    settings_from: Callable[[str], Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_from(COMPETITORS + '\n[crawl]\ntimeout = "7s"\nanomaly_threshold = "40%"\n')
    payload = node_payload(settings, "small")
    assert "database" not in json.loads(payload)  # nothing of the database travels

    with pytest.raises(ConfigError, match="REPRICER_DATABASE__URL"):
        settings_from_payload(payload)
    monkeypatch.setenv("REPRICER_DATABASE__URL", "postgresql+psycopg://u@db/shared")
    node = settings_from_payload(payload)
    assert node.database.url == "postgresql+psycopg://u@db/shared"
    assert node.crawl == settings.crawl
    assert node.competitors == [settings.competitor("small")]
    with pytest.raises(ConfigError, match=r"runs repricer .* the dispatcher 0\.0\.1"):
        settings_from_payload(payload, "0.0.1")


@pytest.mark.parametrize(
    ("crawl", "message"),
    [
        ('backend = "scrapyd"', "needs at least one URL in scrapyd_nodes"),
        ('backend = "scrapyd"\nscrapyd_nodes = ["http://u:p@node:6800"]', "credentials come from"),
        ('scrapyd_nodes = ["node-a:6800"]', "must be http"),
    ],
    ids=["no-nodes", "credentials-in-url", "no-scheme"],
)
def test_bad_scrapyd_settings_are_refused(
    settings_from: Callable[[str], Settings], crawl: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        settings_from(f"[crawl]\n{crawl}\n")


def test_doctor_on_a_node_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(app, ["doctor", "--node", "--json"])

    assert result.exit_code == 1
    checks = {c["check"]: c for c in json.loads(result.stdout.splitlines()[0])}
    assert checks["database"]["status"] == "fail"
    assert "REPRICER_DATABASE__URL" in checks["database"]["detail"]
    assert checks["spiders"]["status"] == "ok"


def test_doctor_on_a_node_passes_with_a_migrated_shared_database(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from repricer.db import migrate

    url = pg_engine.url.render_as_string(hide_password=False)
    with pg_engine.begin() as conn:  # the fixture made the tables; stamp them at head
        conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    migrate.upgrade(url)
    monkeypatch.setenv("REPRICER_DATABASE__URL", url)

    result = CliRunner().invoke(app, ["doctor", "--node", "--json"])

    assert result.exit_code == 0, result.output
    checks = {c["check"]: c["status"] for c in json.loads(result.stdout.splitlines()[0])}
    assert checks["database"] == "ok"


def test_doctor_names_a_scrapyd_node_that_does_not_answer(
    settings_from: Callable[[str], Settings], engine: Engine
) -> None:
    settings = settings_from(
        '[crawl]\nbackend = "scrapyd"\nscrapyd_nodes = ["http://127.0.0.1:9"]\n'
    )

    result = CliRunner().invoke(app, ["--config", str(settings.config_path), "doctor"])

    assert result.exit_code == 1
    assert "node http://127.0.0.1:9" in result.output
    assert "unreachable" in result.output
