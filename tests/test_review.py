"""The approval state machine: the auto-approve band, the breaker, approve/reject by ids,
by run and by filter, who and when, expiry, and refused transitions."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from repricer.cli import app
from repricer.config import Settings
from repricer.db.engine import session_scope
from repricer.db.models import PriceChange
from repricer.exceptions import NotFoundError, ReviewError
from repricer.review import (
    approve,
    auto_approve,
    expire_approvals,
    list_changes,
    reject,
    review_new_changes,
)
from tests.reports.factory import NOW, Change, add_run

runner = CliRunner()


def states(engine: Engine, run_id: int | None = None) -> dict[str, tuple[str, str | None]]:
    """sku -> (status, approved_by) of a run (or of every run)."""
    query = select(PriceChange)
    if run_id is not None:
        query = query.where(PriceChange.run_id == run_id)
    with session_scope(engine) as session:
        return {c.sku: (c.status, c.approved_by) for c in session.scalars(query)}


def ids_of(engine: Engine, run_id: int) -> dict[str, int]:
    with session_scope(engine) as session:
        rows = session.execute(
            select(PriceChange.sku, PriceChange.id).where(PriceChange.run_id == run_id)
        )
        return {sku: change_id for sku, change_id in rows}


@pytest.fixture
def settings(settings_from: Callable[[str], Settings]) -> Settings:
    return settings_from('[pricing.approval]\nauto_approve_band = "5%"\nexpire_after = "24h"\n')


BAND_CASES = [
    # sku, old, new, engine status -> status after auto_approve
    ("IN-DOWN", 100000, 95000, "proposed", "approved"),  # exactly -5%: inside
    ("IN-UP", 100000, 105000, "proposed", "approved"),  # exactly +5%
    ("OUT-UP", 100000, 105001, "proposed", "needs_approval"),  # one kopeck over
    ("OUT-DOWN", 100000, 80000, "proposed", "needs_approval"),
    ("NO-OLD", None, 5000, "proposed", "needs_approval"),  # no old price: a human decides
    ("FLAGGED", 100000, 101000, "needs_approval", "needs_approval"),  # engine said so
    ("SAME", 100000, 100000, "unchanged", "unchanged"),
    ("SKIP", 100000, None, "skipped", "skipped"),
]


def test_auto_approve_approves_inside_the_band_only(engine: Engine, settings: Settings) -> None:
    run = add_run(
        engine, [Change(sku, old, new, status) for sku, old, new, status, _ in BAND_CASES]
    )
    assert auto_approve(settings, engine, run) == 2
    got = states(engine, run)
    for sku, *_, expected in BAND_CASES:
        assert got[sku][0] == expected, sku
    assert got["IN-UP"][1] == "auto" and got["OUT-UP"][1] is None


@pytest.mark.parametrize("run_status", ["applied", "needs_approval"])
def test_changes_reviewed_before_writing_as_a_stored_run_is(
    engine: Engine, settings: Settings, run_status: str
) -> None:
    """An applied run reviews its changes before writing them: the same statuses and
    approvers as reviewing them once stored, the breaker's run approving none."""
    cases = [Change(sku, old, new, status) for sku, old, new, status, _ in BAND_CASES]
    run = add_run(engine, cases, status=run_status)
    frame = pd.DataFrame(
        {
            "sku": [c.sku for c in cases],
            "status": [c.status for c in cases],
            "old_price": pd.array([c.old for c in cases], dtype="Int64"),
            "new_price": pd.array([c.new for c in cases], dtype="Int64"),
        }
    )
    reviewed, count = review_new_changes(settings, frame, run_status, NOW)
    assert count == auto_approve(settings, engine, run, now=NOW)
    stored = states(engine, run)
    assert {row.sku: (row.status, row.approved_by) for row in reviewed.itertuples()} == stored
    assert set(reviewed.loc[reviewed["approved_by"].notna(), "approved_at"]) <= {NOW}


def test_breaker_run_needs_approval_for_every_change(engine: Engine, settings: Settings) -> None:
    run = add_run(
        engine,
        [Change("A", 100000, 100100), Change("B", 100000, 99000)],
        status="needs_approval",
        breaker="median change 18% > 15%",
    )
    assert auto_approve(settings, engine, run) == 0
    assert {s for s, _ in states(engine, run).values()} == {"needs_approval"}


def test_auto_approve_refuses_dry_runs_and_unknown_runs(engine: Engine, settings: Settings) -> None:
    dry = add_run(engine, [Change("A", 100000, 100100)], status="dry_run")
    with pytest.raises(ReviewError, match=f"run {dry}"):
        auto_approve(settings, engine, dry)
    assert states(engine, dry)["A"][0] == "proposed"
    with pytest.raises(NotFoundError, match="run 999"):
        auto_approve(settings, engine, 999)


def test_approve_and_reject_by_ids_record_who_and_when(engine: Engine) -> None:
    run = add_run(
        engine,
        [Change("A", 1000, 1500, "needs_approval"), Change("B", 1000, 500, "needs_approval")],
    )
    ids = ids_of(engine, run)
    when = NOW + timedelta(hours=1)
    assert approve(engine, ids=[ids["A"]], by="maria", now=when) == [ids["A"]]
    assert reject(engine, ids=[ids["B"]], now=when) == [ids["B"]]
    with session_scope(engine) as session:
        a, b = (session.get(PriceChange, ids[s]) for s in ("A", "B"))
        assert a is not None and b is not None
        assert (a.status, a.approved_by) == ("approved", "maria")
        assert a.approved_at is not None and a.approved_at.replace(tzinfo=UTC) == when
        assert b.status == "rejected" and b.approved_by  # the OS user by default


def test_invalid_transitions_raise_naming_the_id_and_change_nothing(engine: Engine) -> None:
    run = add_run(
        engine,
        [
            Change("P", 1000, 1100, "needs_approval"),
            Change("U", 1000, 1000, "unchanged"),
            Change("R", 1000, 900, "rejected"),
        ],
    )
    ids = ids_of(engine, run)
    before = states(engine, run)
    with pytest.raises(
        ReviewError, match=rf"price change {ids['U']}: cannot go from unchanged to approved"
    ):
        approve(engine, ids=[ids["P"], ids["U"]])
    with pytest.raises(ReviewError, match=rf"price change {ids['R']}: cannot go from rejected"):
        approve(engine, ids=[ids["R"]])
    with pytest.raises(ReviewError, match="price change 4242: no such change"):
        reject(engine, ids=[4242])
    with pytest.raises(ReviewError, match="say which changes"):
        approve(engine)
    assert states(engine, run) == before  # the valid id in the failed call was not approved


def test_garbage_filters_are_refused(engine: Engine) -> None:
    add_run(engine, [Change("A", 1000, 1100, "needs_approval")])
    with pytest.raises(ReviewError, match="unknown status 'aproved'"):
        list_changes(engine, status="aproved")
    with pytest.raises(ReviewError, match="must not be negative"):
        approve(engine, max_change=Decimal("-0.05"))
    with pytest.raises(NotFoundError, match="repricing run 31337"):
        approve(engine, run_id=31337)
    assert approve(engine, category="No such category") == []
    assert states(engine)["A"][0] == "needs_approval"


def test_dry_run_changes_are_never_reviewed(engine: Engine) -> None:
    dry = add_run(engine, [Change("D", 1000, 1010)], status="dry_run")
    with pytest.raises(ReviewError, match="dry run"):
        approve(engine, ids=list(ids_of(engine, dry).values()))
    with pytest.raises(ReviewError, match="dry run"):
        approve(engine, run_id=dry)
    assert approve(engine, max_change=Decimal("0.5")) == []


def test_approved_can_be_rejected_before_push_but_pushed_cannot(engine: Engine) -> None:
    run = add_run(engine, [Change("A", 1000, 1010, "approved"), Change("P", 1000, 1010, "pushed")])
    ids = ids_of(engine, run)
    assert reject(engine, ids=[ids["A"]], by="ops") == [ids["A"]]
    with pytest.raises(ReviewError, match=rf"{ids['P']}: cannot go from pushed to rejected"):
        reject(engine, ids=[ids["P"]])


def test_approve_by_filter_category_and_max_change(engine: Engine) -> None:
    run = add_run(
        engine,
        [
            Change("K-SMALL", 10000, 10300, "needs_approval", category="Kitchen"),
            Change("K-BIG", 10000, 13000, "needs_approval", category="Kitchen"),
            Change("G-SMALL", 10000, 9800, "needs_approval", category="Garden"),
            Change("K-DONE", 10000, 10100, "rejected", category="Kitchen"),
        ],
    )
    other = add_run(engine, [Change("K-OTHER", 10000, 10100, "needs_approval", category="Kitchen")])
    ids = ids_of(engine, run)
    done = approve(engine, run_id=run, category="kitchen", max_change=Decimal("0.05"), by="olga")
    assert done == [ids["K-SMALL"]]
    got = states(engine)
    assert got["K-SMALL"] == ("approved", "olga")
    assert got["K-BIG"][0] == got["G-SMALL"][0] == got["K-OTHER"][0] == "needs_approval"
    assert got["K-DONE"][0] == "rejected"  # filters only pick pending changes
    # rejecting by filter also withdraws approvals that are not pushed yet
    assert reject(engine, category="Kitchen") == sorted(
        [ids["K-SMALL"], ids["K-BIG"], *ids_of(engine, other).values()]
    )


def test_expire_approvals_after_expire_after(engine: Engine, settings: Settings) -> None:
    old = add_run(
        engine,
        [
            Change("OLD-PENDING", 1000, 1500, "needs_approval"),
            Change("OLD-PUSHED", 1000, 1010, "pushed"),
        ],
        at=NOW - timedelta(hours=30),
    )
    fresh = add_run(
        engine,
        [Change("FRESH", 1000, 1500, "needs_approval"), Change("APPROVED-LATE", 1000, 1010)],
        at=NOW - timedelta(hours=2),
    )
    dry = add_run(engine, [Change("DRY", 1000, 1500)], status="dry_run", at=NOW - timedelta(days=5))
    approve(engine, ids=[ids_of(engine, fresh)["APPROVED-LATE"]], now=NOW - timedelta(hours=25))
    assert expire_approvals(settings, engine, now=NOW) == 2
    got = states(engine)
    assert got["OLD-PENDING"][0] == "expired" and got["APPROVED-LATE"][0] == "expired"
    assert got["FRESH"][0] == "needs_approval" and got["OLD-PUSHED"][0] == "pushed"
    assert states(engine, dry)["DRY"][0] == "proposed"  # dry runs never expire
    with pytest.raises(ReviewError, match="cannot go from expired to approved"):
        approve(engine, ids=[ids_of(engine, old)["OLD-PENDING"]])
    assert expire_approvals(settings, engine, now=NOW) == 0


def test_list_changes_defaults_to_the_queue(engine: Engine) -> None:
    run = add_run(
        engine, [Change("Q", 1000, 1200, "needs_approval"), Change("A", 1000, 1010, "approved")]
    )
    add_run(engine, [Change("DRY", 1000, 1200)], status="dry_run")
    assert [r["sku"] for r in list_changes(engine)] == ["Q"]
    assert {r["sku"] for r in list_changes(engine, run_id=run, status="all")} == {"Q", "A"}
    assert list_changes(engine, status="approved")[0]["change_pct"] == 1.0


def test_review_cli_list_approve_reject(
    write_config: Callable[[str], Path], engine: Engine
) -> None:
    config = str(write_config(""))
    run = add_run(
        engine,
        [
            Change("K-1", 10000, 10300, "needs_approval"),
            Change("K-2", 10000, 15000, "needs_approval"),
        ],
    )
    ids = ids_of(engine, run)
    listed = runner.invoke(app, ["--config", config, "review", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert {row["sku"] for row in json.loads(listed.output)} == {"K-1", "K-2"}
    ok = runner.invoke(
        app,
        [
            "--config",
            config,
            "review",
            "approve",
            "--run",
            str(run),
            "--max-change",
            "5%",
            "--by",
            "anna",
        ],
    )
    assert ok.exit_code == 0 and f"approved 1 price change(s): {ids['K-1']}" in ok.output
    bad = runner.invoke(app, ["--config", config, "review", "approve", str(ids["K-1"])])
    assert (
        bad.exit_code == 1
        and f"price change {ids['K-1']}: cannot go from approved to approved" in bad.output
    )
    usage = runner.invoke(app, ["--config", config, "review", "approve", "--max-change", "lots"])
    assert usage.exit_code == 2
    rejected = runner.invoke(app, ["--config", config, "review", "reject", str(ids["K-2"])])
    assert rejected.exit_code == 0 and "rejected 1" in rejected.output
    expired = runner.invoke(app, ["--config", config, "review", "expire"])
    assert expired.exit_code == 0 and "expired 0" in expired.output
    assert states(engine, run) == {
        "K-1": ("approved", "anna"),
        "K-2": ("rejected", states(engine, run)["K-2"][1]),
    }


def test_a_newer_applied_run_supersedes_earlier_undecided_changes(
    engine: Engine, settings: Settings
) -> None:
    first = add_run(
        engine,
        [
            Change("A", 1000, 1300, "needs_approval"),
            Change("B", 1000, 1010, "approved"),
            Change("C", 1000, 1010, "pushed"),
            Change("D", 1000, 1300, "needs_approval"),  # not in the newer run
        ],
        at=NOW - timedelta(hours=1),
    )
    dry = add_run(
        engine, [Change("A", 1000, 1300)], status="dry_run", at=NOW - timedelta(minutes=30)
    )
    second = add_run(
        engine,
        [Change("A", 1000, 1020), Change("B", 1000, 1300), Change("C", 1010, 1010, "unchanged")],
    )
    assert auto_approve(settings, engine, second) == 1
    assert states(engine, first) == {
        "A": ("superseded", None),
        "B": ("superseded", None),
        "C": ("pushed", None),
        "D": ("needs_approval", None),
    }
    assert states(engine, dry)["A"][0] == "proposed"  # dry runs are left alone
    assert states(engine, second) == {
        "A": ("approved", "auto"),
        "B": ("needs_approval", None),
        "C": ("unchanged", None),
    }
    assert auto_approve(settings, engine, second) == 0  # idempotent


@pytest.mark.slow
def test_review_and_report_on_postgresql(pg_url: str, settings: Settings) -> None:
    from repricer.db import Base, make_engine
    from repricer.reports import build_report
    from tests.reports.factory import add_report_scene

    pg = make_engine(pg_url)
    Base.metadata.drop_all(pg)
    Base.metadata.create_all(pg)
    try:
        run = add_report_scene(pg)
        assert auto_approve(settings, pg, run) == 1  # K-4 -5.0% is inside the 5% band
        assert approve(pg, run_id=run, category="KITCHEN", max_change=Decimal("0.10"), by="pg") == [
            ids_of(pg, run)["K-2"]
        ]
        report = build_report(pg, run)
        assert (report.summary.margin_before, report.summary.margin_after) == (637970, 594810)
        assert report.changes.set_index("sku").loc["K-1", "market_min"] == 97000
        later = datetime.now(UTC) + timedelta(days=2)
        assert expire_approvals(settings, pg, now=later) == 17  # every approved change
        assert list_changes(pg, run_id=run, status="expired")[0]["run_status"] == "applied"
    finally:
        Base.metadata.drop_all(pg)
        pg.dispose()
