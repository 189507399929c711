"""``repricer db prune`` on SQLite and PostgreSQL: old history goes, nothing live does,
and history charts, reports and the review queue read the thinned data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from repricer.cli import app
from repricer.config import load_settings
from repricer.db import session_scope
from repricer.db.models import (
    CrawlRun,
    CrawlSiteStats,
    JobRun,
    Observation,
    ObservationDaily,
    PriceChange,
    PushAttempt,
    RepricingRun,
    RepricingRunInputs,
)
from repricer.pricing.inputs import load_observations
from repricer.reports import price_history
from repricer.reports.market import latest_observations
from repricer.retention import prune
from tests.pricing.conftest import Shop

NOW = datetime.now(UTC).replace(microsecond=0)
DAY = timedelta(days=1)


def _old(days: float, hours: float = 0) -> datetime:
    """A time ``days`` days ago at ``hours`` past midnight UTC (whole UTC days apart)."""
    midnight = NOW.replace(hour=0, minute=0, second=0)
    return midnight - days * DAY + timedelta(hours=hours)


def _run(shop: Shop, started: datetime, status: str = "applied") -> int:
    return shop._add(RepricingRun(started_at=started, status=status, summary={}))


def _change(shop: Shop, run_id: int, product_id: int, status: str, at: datetime) -> int:
    return shop._add(
        PriceChange(
            run_id=run_id,
            product_id=product_id,
            sku=f"P{product_id}",
            currency="RUB",
            old_price=100000,
            new_price=99000,
            status=status,
            decided_at=at,
        )
    )


def _observe(shop: Shop, listing: int, price: int | None, at: datetime, **values: Any) -> None:
    values.setdefault("status", "ok" if price else "error")
    shop._add(Observation(listing_id=listing, price=price, observed_at=at, **values))


class Scene:
    """A shop with months of history: what must go and what must stay."""

    def __init__(self, engine: Engine) -> None:
        shop = self.shop = Shop(engine, now=NOW)
        self.product = shop.product("A", 150000)
        self.dns = shop.listing(self.product, "dns")
        for hours, price in ((8, 100000), (12, 120000), (18, 110000)):
            _observe(shop, self.dns, price, _old(200, hours), availability="in_stock")
        _observe(shop, self.dns, 130000, _old(150, 9))
        _observe(shop, self.dns, None, _old(160, 9))  # a failed fetch: deleted, never folded
        _observe(shop, self.dns, None, _old(100, 9))  # the latest failed one: kept
        _observe(shop, self.dns, 140000, _old(10, 9))
        _observe(shop, self.dns, 150000, NOW - timedelta(hours=1))
        self.citilink = shop.listing(self.product, "citilink")
        _observe(shop, self.citilink, 90000, _old(200, 10))
        _observe(shop, self.citilink, 95000, _old(180, 10))  # its latest: kept however old
        sick_crawl = shop._add(CrawlRun(status="ok", started_at=_old(120)))
        shop._add(
            CrawlSiteStats(
                crawl_run_id=sick_crawl, competitor_id=shop.competitor("sick"), healthy=False
            )
        )
        self.sick_crawl = sick_crawl
        sick = shop.listing(self.product, "sick")
        _observe(shop, sick, 1000, _old(120, 1), crawl_run_id=sick_crawl)
        self.empty_crawl = shop._add(CrawlRun(status="ok", started_at=_old(130)))
        shop._add(
            CrawlSiteStats(crawl_run_id=self.empty_crawl, competitor_id=shop.competitor("dns"))
        )
        shop._add(CrawlRun(status="running", started_at=_old(125)))
        self._runs()
        for days in (200, 150, 100):
            shop._add(JobRun(job_id="feeds:acme", status="ok", started_at=_old(days)))
        shop._add(JobRun(job_id="crawl:dns", status="ok", started_at=_old(150)))

    def _runs(self) -> None:
        shop, others = self.shop, [self.shop.product(f"S{i}") for i in range(4)]
        self.mixed_run = _run(shop, _old(100), "needs_approval")
        _change(shop, self.mixed_run, others[1], "unchanged", _old(100))
        _change(shop, self.mixed_run, others[0], "rejected", _old(100))
        self.pending = _change(shop, self.mixed_run, self.product, "needs_approval", _old(100))
        self.done_run = _run(shop, _old(95))
        done = _change(shop, self.done_run, self.product, "confirmed", _old(95))
        shop._add(PushAttempt(price_change_id=done, connector="file", status="confirmed"))
        with session_scope(shop.engine) as session:
            session.add(RepricingRunInputs(run_id=self.done_run, format="test", data=b"x"))
        self.approved_run = _run(shop, _old(92))
        self.approved = _change(shop, self.approved_run, others[2], "approved", _old(92))
        self.failed = _change(shop, self.approved_run, others[3], "failed", _old(92))
        shop._add(PushAttempt(price_change_id=self.failed, connector="file", status="failed"))
        self.newest_run = _run(shop, NOW - timedelta(hours=1))
        _change(shop, self.newest_run, self.product, "proposed", NOW - timedelta(hours=1))


EXPECTED = {
    "observations": 6,  # dns: 3 + 1 + one failed fetch (10 days is young); citilink: 1
    "price_changes": 3,
    "push_attempts": 1,
    "repricing_runs": 1,
    "repricing_run_inputs": 1,
    "job_runs": 2,
    "crawl_runs": 1,
    "crawl_shards": 0,
    "crawl_site_stats": 1,
}


def _counts(engine: Engine) -> dict[str, int]:
    tables = (Observation, ObservationDaily, PriceChange, PushAttempt, RepricingRun, JobRun)
    with session_scope(engine) as session:
        return {
            t.__tablename__: session.scalar(select(func.count()).select_from(t)) or 0
            for t in tables
        }


def _competitor_points(engine: Engine) -> set[tuple[str, datetime, int]]:
    points = price_history(engine, "A").points
    shown = points[points["kind"] == "competitor"]
    return {(row.series, row.at.to_pydatetime(), int(row.price)) for row in shown.itertuples()}


def _usable(engine: Engine) -> list[tuple[Any, ...]]:
    settings = load_settings(None, missing_ok=True)
    with engine.connect() as conn:
        frame = load_observations(conn, settings, now=NOW, max_age=timedelta(days=400))
    return sorted(map(tuple, frame.astype(object).to_numpy().tolist()))


def _queue(engine: Engine) -> list[tuple[int, str]]:
    from repricer.review import list_changes

    rows = list_changes(engine, status="all")
    return sorted(
        (r["id"], r["status"])
        for r in rows
        if r["status"] in ("needs_approval", "approved", "failed", "proposed")
    )


def _cli(engine: Engine, tmp_path: Any, *args: str) -> Any:
    config = tmp_path / "config.toml"
    url = engine.url.render_as_string(hide_password=False)
    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["--config", str(config), "db", "prune", *args])
    assert result.exit_code == 0, result.output
    return result


def test_prune_keeps_everything_live_and_the_history_it_thins(
    any_engine: Engine, tmp_path: Any
) -> None:
    scene = Scene(any_engine)
    before = _counts(any_engine)
    points_before = _competitor_points(any_engine)
    usable_before, queue_before = _usable(any_engine), _queue(any_engine)

    dry = _cli(any_engine, tmp_path, "--older-than", "90d", "--dry-run", "--json")
    assert json.loads(dry.output)["deleted"] == EXPECTED
    assert _counts(any_engine) == before, "a dry run deletes nothing"

    result = _cli(
        any_engine, tmp_path, "--older-than", "12w"
    )  # 84 days: nothing else is in between
    assert "deleted" in result.output and "observations" in result.output
    after = _counts(any_engine)
    assert {t: before[t] - after[t] for t in ("observations", "price_changes", "job_runs")} == {
        t: EXPECTED[t] for t in ("observations", "price_changes", "job_runs")
    }
    # Pricing sees the same latest trusted observations; the review queue and push the same changes.
    assert _usable(any_engine) == usable_before
    assert _queue(any_engine) == queue_before
    with session_scope(any_engine) as session:
        runs = set(session.scalars(select(RepricingRun.id)))
        crawls = set(session.scalars(select(CrawlRun.id)))
        attempts = list(session.scalars(select(PushAttempt.price_change_id)))
    assert runs == {scene.mixed_run, scene.approved_run, scene.newest_run}
    assert scene.sick_crawl in crawls and scene.empty_crawl not in crawls
    assert attempts == [scene.failed]
    # The chart: raw points where they are kept, each folded day's last price elsewhere.
    folded = {
        ("dns", _old(200, 18), 110000),
        ("dns", _old(150, 9), 130000),
        ("citilink", _old(200, 10), 90000),
    }
    raw_kept = {p for p in points_before if p not in folded and p[1] > _old(190)}
    assert _competitor_points(any_engine) == raw_kept | folded
    with session_scope(any_engine) as session:
        day = session.get(ObservationDaily, (scene.dns, _old(200).date()))
        assert day is not None
        assert (day.min_price, day.max_price, day.last_price, day.count) == (
            100000,
            120000,
            110000,
            3,
        )
        assert day.availability == "in_stock"
        days = session.scalar(select(func.count()).select_from(ObservationDaily))
    assert days == 3

    again = json.loads(_cli(any_engine, tmp_path, "--older-than", "90d", "--json").output)
    assert again["deleted"] == dict.fromkeys(EXPECTED, 0) and again["daily_rows"] == 0
    assert _counts(any_engine) == after


def test_report_market_reads_folded_days(any_engine: Engine) -> None:
    """A run kept past the cutoff (a change still waits) still finds its market price."""
    scene = Scene(any_engine)
    with any_engine.connect() as conn:
        before = latest_observations(conn, scene.mixed_run, _old(100, 23))
    prune(any_engine, timedelta(days=90), now=NOW)
    with any_engine.connect() as conn:
        after = latest_observations(conn, scene.mixed_run, _old(100, 23))
    seen = {(r.competitor, int(r.price)) for r in before.itertuples()}
    assert seen == {("dns", 130000), ("citilink", 95000)}
    assert {(r.competitor, int(r.price)) for r in after.itertuples()} == seen


def test_a_day_cut_by_two_prunes_is_merged_once(any_engine: Engine) -> None:
    shop = Shop(any_engine, now=NOW)
    listing = shop.listing(shop.product("A"), "dns")
    for hours, price in ((1, 100000), (5, 300000), (20, 200000)):
        _observe(shop, listing, price, _old(10, hours))
    _observe(shop, listing, 250000, _old(9, 1))

    def day() -> tuple[int, int, int, datetime, int]:
        with session_scope(any_engine) as session:
            row = session.get(ObservationDaily, (listing, _old(10).date()))
            assert row is not None
            return row.min_price, row.max_price, row.last_price, row.last_at, row.count

    first = prune(any_engine, NOW - _old(10, 10), now=NOW)
    assert first.deleted["observations"] == 2 and first.daily_rows == 1
    assert day() == (100000, 300000, 300000, _old(10, 5), 2)
    prune(any_engine, NOW - _old(10, 23), now=NOW)
    assert day() == (100000, 300000, 200000, _old(10, 20), 3)
    repeat = prune(any_engine, NOW - _old(10, 23), now=NOW)
    assert repeat.total == 0 and day() == (100000, 300000, 200000, _old(10, 20), 3)


@pytest.mark.parametrize("value", ["0h", "soon", "30m"])
def test_prune_refuses_a_bad_duration(engine: Engine, tmp_path: Any, value: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{engine.url}"\n', encoding="utf-8")
    result = CliRunner().invoke(
        app, ["--config", str(config), "db", "prune", "--older-than", value]
    )
    assert result.exit_code == 2 and "older-than" in result.output
