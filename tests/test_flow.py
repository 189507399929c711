"""The one apply path: a run is stored, supersedes older decisions and is auto-approved
in one transaction, serialised with every other apply.

Real ``repricer reprice --apply`` processes are SIGKILLed at each step of the apply
(``$REPRICER_CRASH_AT``), then a push runs. Whatever the step, the invariant holds: no
change is pushed unless its run is fully applied (all its decisions stored and reviewed)
and no later applied run decided its product. Three applies at once (each holding its
transaction open, ``$REPRICER_PAUSE_AT``) leave live changes of one run only.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from repricer.config import Settings, load_settings
from repricer.db.models import Listing, PriceChange, RepricingRun
from repricer.flow import apply_repricing
from repricer.states import PUSHED, UNPUSHED
from repricer.storefront import push_changes
from tests.pricing.conftest import RULES, Shop

SKUS = [f"F-{i}" for i in range(1, 6)]
SCRIPT = "import sys; from repricer.cli import main; sys.argv = ['repricer', '--config', *sys.argv[1:]]; main()"
LIVE = (*UNPUSHED, "pushing")


def _workspace(engine: Engine, tmp_path: Path) -> Settings:
    rules = tmp_path / "rules"
    rules.mkdir(exist_ok=True)
    (rules / "default.toml").write_text(RULES, encoding="utf-8")
    url = engine.url.render_as_string(hide_password=False)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{url}"\n'
        '[pricing]\nrules_dir = "rules"\nmax_changed_share = "100%"\nmax_median_change = "100%"\n'
        '[pricing.approval]\nauto_approve_band = "100%"\n',
        encoding="utf-8",
    )
    shop = Shop(engine, now=datetime.now(UTC))
    for sku in SKUS:
        shop.priced(sku, 50000, {"citilink": 134900})
    return load_settings(config)


def _undercut(engine: Engine) -> None:
    """A newer, lower competitor price for every product: the next run decides anew."""
    shop = Shop(engine, now=datetime.now(UTC))
    with engine.connect() as conn:
        listings = conn.execute(select(Listing.id)).scalars().all()
    for listing in listings:
        shop.observation(listing, 120000, hours=0.1, availability="in_stock")


def _cli(
    settings: Settings, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("REPRICER_")}
    base |= {"PYTHONPATH": os.getcwd(), **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(settings.config_path), *args],
        env=base,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def assert_pushed_only_fully_applied_newest(engine: Engine) -> None:
    """The invariant, over everything in the database."""
    with engine.connect() as conn:
        runs = {r.id: r for r in conn.execute(select(RepricingRun)).all()}
        changes = conn.execute(
            select(PriceChange.run_id, PriceChange.product_id, PriceChange.status)
        ).all()
    stored = Counter(c.run_id for c in changes)
    for change in changes:
        if change.status not in PUSHED:
            continue
        run = runs[change.run_id]
        assert run.status in ("applied", "needs_approval")
        assert stored[run.id] == run.summary["products"], "pushed from a half-stored run"
        assert not [c for c in changes if c.run_id == run.id and c.status == "proposed"], (
            "pushed from a run that was never reviewed"
        )
        later = [
            c
            for c in changes
            if c.product_id == change.product_id
            and c.run_id > run.id
            and runs[c.run_id].status != "dry_run"
        ]
        assert not later, f"pushed a stale decision: run {run.id} < {later[0].run_id}"


POINTS = ["apply:locked", "apply:stored", "apply:reviewed", "apply:committed"]


@pytest.mark.slow
@pytest.mark.parametrize("point", POINTS)
def test_sigkill_at_each_step_of_apply_never_pushes_a_stale_price(
    any_engine: Engine, tmp_path: Path, point: str
) -> None:
    settings = _workspace(any_engine, tmp_path)
    first = apply_repricing(settings, any_engine)
    assert first.approved == len(SKUS)  # approved, not yet pushed
    _undercut(any_engine)

    child = _cli(settings, "reprice", "--apply", env={"REPRICER_CRASH_AT": point})
    _, err = child.communicate(timeout=300)
    assert child.returncode == -9, err

    with any_engine.connect() as conn:
        runs = conn.execute(select(RepricingRun.id, RepricingRun.status)).all()
        live = conn.execute(
            select(PriceChange.run_id, PriceChange.status).where(PriceChange.status.in_(LIVE))
        ).all()
    if point == "apply:committed":  # the run was committed just before the kill
        assert len(runs) == 2
        assert {r for r, _ in live} == {runs[1].id} and {s for _, s in live} == {"approved"}
    else:  # nothing of the killed run is left; the earlier approvals stand
        assert runs == [(first.run_id, "applied")]
        assert {r for r, _ in live} == {first.run_id}

    summary = push_changes(settings, any_engine)
    assert summary.pushed == len(SKUS) and not summary.error
    assert_pushed_only_fully_applied_newest(any_engine)


@pytest.mark.slow
def test_three_applies_at_once_leave_one_live_run(any_engine: Engine, tmp_path: Path) -> None:
    settings = _workspace(any_engine, tmp_path)
    apply_repricing(settings, any_engine)
    _undercut(any_engine)
    hold = {"REPRICER_PAUSE_AT": "apply:stored", "REPRICER_PAUSE_S": "2"}
    children = [_cli(settings, "reprice", "--apply", env=hold) for _ in range(3)]
    outcomes = [c.communicate(timeout=300) for c in children]
    assert [c.returncode for c in children] == [0, 0, 0], outcomes

    with any_engine.connect() as conn:
        runs = conn.execute(select(RepricingRun.id).order_by(RepricingRun.id)).scalars().all()
        live = conn.execute(
            select(PriceChange.run_id, PriceChange.product_id).where(PriceChange.status.in_(LIVE))
        ).all()
    assert len(runs) == 4
    per_product = Counter(product for _, product in live)
    assert set(per_product.values()) == {1}, "two runs with live changes for one product"
    assert {run for run, _ in live} == {runs[-1]}  # the last one applied wins
    push_changes(settings, any_engine)
    assert_pushed_only_fully_applied_newest(any_engine)
