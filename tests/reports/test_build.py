"""build_report: the changes table, the market at run time and the summary, checked
against numbers worked out by hand from tests/reports/factory.py."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import Engine

from repricer.exceptions import NotFoundError
from repricer.reports import Report, build_report
from repricer.reports.build import largest_changes
from tests.reports.factory import Change, add_run


def row(report: Report, sku: str) -> pd.Series:
    return report.changes.set_index("sku").loc[sku]


def test_summary_counts_and_margins(report: Report) -> None:
    s, counts = report.summary, report.summary.counts
    # the engine's decisions: S-5 counts as a decrease although it was rejected since
    assert (counts.products, counts.up, counts.down, counts.unchanged) == (20, 6, 9, 4)
    assert (counts.needs_approval, counts.skipped) == (1, 1)
    # per-unit margin over products with a cost; rejected/skipped keep the old price
    assert (s.margin_before, s.margin_after, s.margin_impact) == (637970, 594810, -43160)
    assert s.margin_impact_pct == pytest.approx(-43160 * 100 / 637970)
    assert s.statuses["approved"] == 15 and s.statuses["rejected"] == 1
    assert s.currency == "RUB"


def test_market_is_latest_trustworthy_competitor_price(report: Report) -> None:
    k1 = row(report, "K-1")
    # alpha-shop 970 ₽ and beta-market 990 ₽ on the last day; the later 0,01 ₽ anomaly
    # and our own store are ignored
    assert (k1["market_min"], k1["market_median"], k1["competitors"]) == (97000, 98000, 2)
    assert k1["market_competitor"] == "alpha-shop"
    assert k1["position_after_pct"] == pytest.approx((96900 - 97000) * 100 / 97000)
    assert pd.isna(row(report, "X-01")["market_min"])


def test_shares_cheaper_and_dearer_than_market(report: Report) -> None:
    s = report.summary
    assert s.with_market == 4
    assert (s.cheaper_before_pct, s.dearer_before_pct) == (0.0, 100.0)
    # K-4 cheaper, K-1 at market (-0.1%), K-2 and K-3 dearer
    assert (s.cheaper_after_pct, s.dearer_after_pct) == (25.0, 50.0)


def test_changes_table_money_is_integer_and_statuses_decide_the_final_price(report: Report) -> None:
    for column in ("old_price", "final_price", "change", "cost", "market_min", "margin_after"):
        assert str(report.changes[column].dtype) == "Int64", column
    assert row(report, "S-5")["final_price"] == 99000  # rejected: the old price stays
    assert row(report, "S-6")["direction"] == "same"  # skipped, no new price
    assert row(report, "K-2")["direction"] == "up" and row(report, "K-4")["change"] == -60000


def test_largest_changes_get_history_charts(report: Report) -> None:
    assert largest_changes(report.changes, 3) == ["K-2", "K-4", "K-1"]
    assert [h.sku for h in report.histories][:3] == ["K-2", "K-4", "K-1"]


def test_latest_run_unknown_run_and_no_runs(engine: Engine) -> None:
    with pytest.raises(NotFoundError, match="no repricing run yet"):
        build_report(engine, None)
    first = add_run(engine, [Change("A", 1000, 1100)])
    second = add_run(engine, [Change("A", 1100, 1100, "unchanged")], status="dry_run")
    assert build_report(engine, None).run.id == second
    assert build_report(engine, first).summary.counts.up == 1
    with pytest.raises(NotFoundError, match="repricing run 777"):
        build_report(engine, 777)


def test_empty_run_builds(engine: Engine) -> None:
    report = build_report(engine, add_run(engine, []))
    assert report.summary.counts.products == 0 and report.summary.avg_change_pct is None
    assert report.summary.margin_impact_pct is None and report.histories == []


def test_observations_of_an_unhealthy_crawl_are_not_the_market(engine: Engine) -> None:
    from datetime import timedelta

    from sqlalchemy import select

    from repricer.db.engine import session_scope
    from repricer.db.models import (
        Competitor,
        CrawlRun,
        CrawlSiteStats,
        Listing,
        Observation,
        Product,
    )
    from repricer.reports import price_history
    from tests.reports.factory import NOW, add_report_scene

    run = add_report_scene(engine)
    with session_scope(engine) as session:
        crawl = CrawlRun(status="ok", started_at=NOW - timedelta(minutes=20))
        session.add(crawl)
        session.flush()
        beta = session.scalars(select(Competitor).where(Competitor.name == "beta-market")).one()
        session.add(CrawlSiteStats(crawl_run_id=crawl.id, competitor_id=beta.id, healthy=False))
        listing = session.scalars(
            select(Listing)
            .join(Product)
            .where(Product.sku == "K-3", Listing.competitor_id == beta.id)
        ).one()
        session.add(
            Observation(
                listing_id=listing.id,
                crawl_run_id=crawl.id,
                observed_at=NOW - timedelta(minutes=10),
                status="ok",
                price=100,
                currency="RUB",
            )
        )
    report = build_report(engine, run)
    assert row(report, "K-3")["market_min"] == 48403  # not the 1 ₽ from the broken crawl
    assert 100 not in set(price_history(engine, "K-3").points["price"])
