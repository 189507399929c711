from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from repricer.config import Settings
from repricer.db import session_scope
from repricer.db.models import PriceChange, RepricingRun
from repricer.exceptions import NotFoundError, PricingError, RulesError
from repricer.pricing import replay_run, reprice
from repricer.pricing.core import DECISION_COLUMNS
from repricer.pricing.engine import check_breaker, summarise
from repricer.pricing.run_inputs import load_run_inputs
from repricer.pricing.stored_explanations import explain_stored
from repricer.queue import product_changes
from repricer.review import list_changes
from tests.pricing import golden
from tests.pricing.conftest import Shop
from tests.pricing.frames import NOW

GOLDEN = Path(__file__).parents[1] / "fixtures" / "pricing" / "stored_decisions.json"


def _changes(shop: Shop, run_id: int) -> dict[str, PriceChange]:
    with session_scope(shop.engine) as session:
        rows = session.scalars(select(PriceChange).where(PriceChange.run_id == run_id))
        return {row.sku: row for row in rows}


def test_dry_run_stores_explained_decisions(shop: Shop, pricing_settings: Settings) -> None:
    shop.priced("A", 108000, {"citilink": 134900, "dns": 140000})
    shop.priced("B", 50000, {})
    result = reprice(pricing_settings, shop.engine, now=NOW)
    changes = _changes(shop, result.run_id)
    a = changes["A"]
    assert (a.old_price, a.new_price, a.floor, a.status) == (150000, 133900, 120960, "proposed")
    assert (a.reference_price, a.reference_competitor, a.rule, a.strategy) == (
        134900,
        "citilink",
        "default",
        "beat_lowest",
    )
    assert a.guards == ["rounding"] and a.flags == []
    assert a.explanation == ""  # rendered when shown, from the replayed decision:
    with shop.engine.connect() as conn:
        explained = explain_stored(conn, [(result.run_id, a.product_id)])
    assert explained[(result.run_id, a.product_id)].replace("\u00a0", " ") == (
        "cheapest in-stock competitor citilink 1 349 ₽ (60 min ago) − 1% = 1 335,51 ₽ → ending 9: 1 339 ₽; "
        "floor 1 209,60 ₽ (cost 1 080 ₽ + 12%) ok"
    )
    assert "B" not in changes  # unchanged: counted in the summary, not stored
    with shop.engine.connect() as conn:
        stored = load_run_inputs(conn, result.run_id)
    assert stored is not None
    products, observations = stored
    assert list(products["sku"]) == ["A"] and list(products["cost"]) == [108000]
    assert sorted(observations["competitor"]) == ["citilink", "dns"]
    b = result.decisions.set_index("sku").loc["B"]
    assert (b["status"], b["flags"]) == ("unchanged", "no_competitors")
    with session_scope(shop.engine) as session:
        run = session.get(RepricingRun, result.run_id)
        assert run is not None and run.status == "dry_run" and run.breaker is None
        assert "default.toml" in run.summary["rules"] and run.rules_hash
    assert result.summary["down"] == 1 and result.summary["unchanged"] == 1
    assert result.summary["margin_impact"] == 133900 - 150000
    assert list(result.decisions.columns) == DECISION_COLUMNS


def test_apply_and_breaker(shop: Shop, settings_from: object, rules_dir: Path) -> None:
    settings = settings_from(f'[pricing]\nrules_dir = "{rules_dir}"\nmax_changed_share = "40%"\n')  # type: ignore[operator]
    shop.priced("A", 108000, {"citilink": 134900})
    shop.priced("B", 50000, {}, price=149900)
    result = reprice(settings, shop.engine, apply=True, now=NOW)
    assert result.breaker and "1 of 2 products would change" in result.breaker
    changes = _changes(shop, result.run_id)
    assert changes["A"].status == "needs_approval" and "breaker" in changes["A"].flags
    with session_scope(shop.engine) as session:
        run = session.get(RepricingRun, result.run_id)
        assert run is not None and run.status == "needs_approval" and run.breaker == result.breaker


def test_applied_run_without_breaker(shop: Shop, pricing_settings: Settings) -> None:
    shop.priced("A", 108000, {"citilink": 134900})
    result = reprice(pricing_settings, shop.engine, apply=True, now=NOW)
    with session_scope(shop.engine) as session:
        run = session.get(RepricingRun, result.run_id)
        assert run is not None and run.status == "applied"


def test_diff_against_previous_run_and_cooldown(
    shop: Shop, pricing_settings: Settings, rules_dir: Path
) -> None:
    shop.priced("A", 108000, {"citilink": 134900})
    shop.priced("B", 108000, {"citilink": 134900})
    first = reprice(pricing_settings, shop.engine, now=NOW)
    assert first.previous_run_id is None and first.diff.empty
    with session_scope(shop.engine) as session:
        change = session.scalars(select(PriceChange).where(PriceChange.sku == "A")).one()
        change.status, change.decided_at = "approved", NOW - timedelta(hours=1)
    text = (rules_dir / "default.toml").read_text(encoding="utf-8")
    (rules_dir / "default.toml").write_text(
        text.replace('beat_by = "1%"', 'beat_by = "5%"\ncooldown = "6h"'), encoding="utf-8"
    )
    second = reprice(pricing_settings, shop.engine, now=NOW)
    assert second.previous_run_id == first.run_id
    assert list(second.diff["sku"]) == ["A", "B"]
    decisions = second.decisions.set_index("sku")
    assert (
        decisions.loc["A", "guards"] == "cooldown" and decisions.loc["A", "status"] == "unchanged"
    )
    assert decisions.loc["B", "new_price"] == 127900  # 1 281,55 -> ending 9


def test_sku_filter_and_errors(shop: Shop, pricing_settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(PricingError, match="catalog is empty"):
        reprice(pricing_settings, shop.engine, now=NOW)
    shop.priced("A", 108000, {"citilink": 134900})
    shop.priced("B", 108000, {"citilink": 134900})
    result = reprice(pricing_settings, shop.engine, skus=["B"], now=NOW)
    assert list(result.decisions["sku"]) == ["B"]
    with pytest.raises(NotFoundError, match="'NOPE'"):
        reprice(pricing_settings, shop.engine, skus=["NOPE"], now=NOW)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.toml").write_text('[[rule]]\nname = "r"\nmax_change = "ten"\n', encoding="utf-8")
    with pytest.raises(RulesError, match=r"x.toml: rule 'r': max_change"):
        reprice(pricing_settings, shop.engine, rules_dir=bad, now=NOW)
    with session_scope(shop.engine) as session:
        assert len(session.scalars(select(RepricingRun)).all()) == 1  # failed runs leave nothing


def test_breaker_on_median_change(shop: Shop, pricing_settings: Settings) -> None:
    shop.priced("A", 10000, {"citilink": 50000})
    result = reprice(pricing_settings, shop.engine, now=NOW)
    limits = pricing_settings.pricing.model_copy(update={"max_median_change": Decimal("0.5")})
    assert check_breaker(result.columns, limits) is not None
    assert "median change" in str(check_breaker(result.columns, limits))
    assert summarise(result.columns)["average_change_pct"] < 0


def test_a_stored_run_replays_to_the_same_decisions(
    shop: Shop, pricing_settings: Settings, rules_dir: Path
) -> None:
    shop.priced("A", 108000, {"citilink": 134900, "dns": 140000}, tags=["t"], category="c")
    shop.priced("B", 50000, {"dns": 60000}, stock=0)
    p = shop.product("C", price=None)
    shop.observation(shop.listing(p, "ozon"), 90000, availability="out_of_stock")
    result = reprice(pricing_settings, shop.engine, now=NOW)
    (rules_dir / "default.toml").write_text(
        '[[rule]]\nname = "changed"\nstrategy = "keep"\n', encoding="utf-8"
    )
    shop.priced("D", 1, {"dns": 2})  # later data does not leak into the replay
    replayed = replay_run(shop.engine, result.run_id)
    columns = ["sku", "new_price", "floor", "status", "guards", "flags", "explanation"]
    assert sorted(replayed["sku"]) == ["A", "B", "C"]  # stored: a change and two skips
    pd.testing.assert_frame_equal(replayed[columns], result.changes[columns], check_dtype=False)
    with pytest.raises(NotFoundError):
        replay_run(shop.engine, 999)


def test_rules_naming_an_unconfigured_competitor_are_refused(
    shop: Shop, settings_from: object, rules_dir: Path
) -> None:
    settings = settings_from(  # type: ignore[operator]
        f'[pricing]\nrules_dir = "{rules_dir}"\n[[competitors]]\nname = "dns"\ndomain = "dns.example"\n'
    )
    shop.priced("A", 108000, {"dns": 134900})
    (rules_dir / "default.toml").write_text(
        '[[rule]]\nname = "r"\ncompetitors = ["dns", "citylink"]\n', encoding="utf-8"
    )
    with pytest.raises(
        RulesError, match=r"default.toml: rule 'r': competitors: unknown competitor 'citylink'"
    ):
        reprice(settings, shop.engine, now=NOW)


def test_garbage_observations_are_not_used(shop: Shop, pricing_settings: Settings) -> None:
    p = shop.priced("A", 108000, {"dns": 134900})
    shop.observation(shop.listing(p, "zero"), 0)
    shop.observation(shop.listing(p, "negative"), -5)
    shop.observation(shop.listing(p, "priceless"), None)
    result = reprice(pricing_settings, shop.engine, now=NOW)
    assert result.decisions.loc[0, "reference_competitor"] == "dns"


def test_stored_decisions_match_the_engine_before_runs_kept_only_changes(
    shop: Shop, settings_from: Callable[[str], Settings], tmp_path: Path
) -> None:
    """The golden file holds what a run stored for every product of the golden catalog
    when runs stored all products; now the changes and skips must be stored the same."""
    folder = tmp_path / "golden-rules"
    folder.mkdir()
    (folder / "golden.toml").write_text(golden.RULES, encoding="utf-8")
    settings = settings_from(
        f'[pricing]\nrules_dir = "{folder}"\nmax_changed_share = "100%"\nmax_median_change = "100%"\n'
    )
    golden.fill_shop(shop)
    result = reprice(settings, shop.engine, now=NOW)
    stored = golden.stored_decisions(shop.engine, result.run_id)
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert golden.stored_rows(stored) == expected
    assert result.summary["unchanged"] == 7 and result.summary["products"] == 120
    replayed = replay_run(shop.engine, result.run_id)
    replayed["guards"] = replayed["guards"].str.split(",").map(lambda g: [x for x in g if x])
    replayed["flags"] = replayed["flags"].str.split(",").map(lambda g: [x for x in g if x])
    rows = replayed.astype(object).where(replayed.notna(), None).to_dict("records")
    assert golden.stored_rows(rows) == expected


def test_stored_rows_are_explained_where_they_are_shown(
    shop: Shop, pricing_settings: Settings
) -> None:
    """The database holds no explanation text; the review list and the workspace's
    product page render the same line the run gave."""
    shop.priced("A", 108000, {"citilink": 134900, "dns": 140000})
    shop.priced("B", 50000, {})
    result = reprice(pricing_settings, shop.engine, now=NOW)
    assert set(result.stored["explanation"]) == {""}  # nothing rendered while storing
    given = dict(zip(result.changes["sku"], result.changes["explanation"], strict=True))
    assert given["A"].startswith("cheapest in-stock competitor citilink")
    top = result.explained(result.stored.head(1))
    assert top["explanation"].iloc[0] == given[top["sku"].iloc[0]]
    listed = list_changes(shop.engine, run_id=result.run_id, status="all")
    assert {row["sku"]: row["explanation"] for row in listed} == given
    shown = product_changes(shop.engine, int(result.changes["product_id"].iloc[0]))
    assert [row["explanation"] for row in shown] == [result.changes["explanation"].iloc[0]]
