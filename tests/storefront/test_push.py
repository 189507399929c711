"""push_changes end to end with the file storefront: selection, holds, journal, read-back."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import Engine

from repricer.config import Settings
from repricer.exceptions import NotFoundError, RulesError, StorefrontError
from repricer.storefront import push_changes
from repricer.storefront.base import Price, PushItem, PushResult
from tests.storefront.seed import (
    EARLIER,
    add_changes,
    add_offer,
    add_products,
    add_run,
    attempts,
    product_prices,
    statuses,
)


@pytest.fixture
def settings(settings_from, tmp_path: Path) -> Settings:
    return settings_from(
        f'[storefront]\nkind = "file"\n[storefront.file]\npath = "{tmp_path / "shop"}"\nformats = ["csv", "yml"]\n'
    )


def read_csv(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["sku"]: row for row in csv.DictReader(fh)}


def test_pushes_only_approved_changes_of_real_runs(engine: Engine, settings: Settings) -> None:
    add_products(engine, ["A", "B", "C", "D", "E"])
    run = add_run(engine)
    add_changes(engine, run, {"A": 12000}, status="approved")
    add_changes(engine, add_run(engine), {"B": 13000}, status="needs_approval")
    add_changes(engine, add_run(engine), {"C": 14000}, status="rejected")
    add_changes(engine, add_run(engine, status="dry_run"), {"D": 15000}, status="approved")

    summary = push_changes(settings, engine)

    assert (summary.pushed, summary.failed, summary.held) == (1, 0, 0)
    assert summary.confirmed == 1 and not summary.mismatches
    assert statuses(engine)["A"] == "confirmed"
    assert product_prices(engine) == {"A": 12000, "B": 10000, "C": 10000, "D": 10000, "E": 10000}
    rows = read_csv(settings.storefront.file.path / "prices.csv")
    assert rows["A"]["price"] == "120.00" and rows["D"]["price"] == "100.00"
    assert [a["status"] for a in attempts(engine)] == ["pushed", "confirmed"]
    # A second push has nothing left to do.
    again = push_changes(settings, engine)
    assert (again.candidates, again.pushed) == (0, 0)


def test_holds_changes_that_now_break_a_guard(engine: Engine, settings: Settings) -> None:
    add_products(engine, ["OK", "MIN"], min_price=9000)
    add_products(engine, ["MAP"], map_price=9500)
    add_products(engine, ["MAX"], max_price=11000)
    add_products(engine, ["COST", "USD", "ZERO"])
    add_offer(engine, "COST", cost=9800)  # the supplier raised the cost after the decision
    add_offer(engine, "OK", cost=5000)
    add_offer(engine, "USD", cost=50, currency="USD")
    run = add_run(engine)
    add_changes(
        engine,
        run,
        {"OK": 9000, "MIN": 8999, "MAP": 9000, "MAX": 12000, "COST": 9700, "USD": 9000, "ZERO": 0},
    )

    summary = push_changes(settings, engine)

    assert summary.pushed == 1 and summary.held == 6
    holds = dict(summary.holds)
    assert holds["MIN"].startswith("below min_price 90")
    assert holds["MAP"].startswith("below MAP 95")
    assert holds["MAX"].startswith("above max_price 110")
    assert holds["COST"].startswith("below the current cost 98")
    assert "another currency" in holds["USD"]
    assert holds["ZERO"] == "no valid new price"
    st = statuses(engine)
    assert st["OK"] == "confirmed" and {st[s] for s in holds} == {"held"}
    assert product_prices(engine)["COST"] == 10000  # held: catalog price untouched
    held_rows = [a for a in attempts(engine) if a["status"] == "held"]
    assert len(held_rows) == 6 and all(a["error"] for a in held_rows)


def test_dry_run_changes_nothing(engine: Engine, settings: Settings) -> None:
    add_products(engine, ["A", "B"], min_price=9000)
    add_changes(engine, add_run(engine), {"A": 12000, "B": 100})
    summary = push_changes(settings, engine, dry_run=True)
    assert summary.dry_run and summary.candidates == 2 and summary.held == 1
    assert "would push 1" in str(summary)
    assert set(statuses(engine).values()) == {"approved"}
    assert attempts(engine) == []
    assert not (settings.storefront.file.path / "prices.csv").exists()


def test_newest_approval_per_product_wins(engine: Engine, settings: Settings) -> None:
    add_products(engine, ["A"])
    old = add_run(engine)
    add_changes(engine, old, {"A": 11000}, decided_at=EARLIER)
    new = add_run(engine)
    add_changes(engine, new, {"A": 12000})
    summary = push_changes(settings, engine)
    assert summary.pushed == 1 and summary.superseded == 1
    assert product_prices(engine)["A"] == 12000


def test_run_filter_and_unknown_or_dry_runs(engine: Engine, settings: Settings) -> None:
    add_products(engine, ["A", "B"])
    first, second = add_run(engine), add_run(engine)
    add_changes(engine, first, {"A": 12000})
    add_changes(engine, second, {"B": 13000})
    assert push_changes(settings, engine, run_id=second).pushed == 1
    assert statuses(engine) == {"A": "approved", "B": "confirmed"}
    with pytest.raises(NotFoundError, match="999"):
        push_changes(settings, engine, run_id=999)
    with pytest.raises(StorefrontError, match="dry run"):
        push_changes(settings, engine, run_id=add_run(engine, status="dry_run"))


class FlakyConnector:
    """Accepts even change ids, fails odd ones; reads back a wrong price for one SKU."""

    name = "flaky"
    max_batch = 2

    def __init__(self) -> None:
        self.sent: list[list[str]] = []
        self.prices: dict[str, Price] = {}

    def push(self, items: list[PushItem]) -> list[PushResult]:
        self.sent.append([i.sku for i in items])
        for i in items:
            if i.change_id % 2 == 0:
                self.prices[i.sku] = Price(i.price + (1 if i.sku == "S2" else 0), i.currency)
        return [
            PushResult(
                i.change_id, i.change_id % 2 == 0, 200, None if i.change_id % 2 == 0 else "nope"
            )
            for i in items
        ]

    def fetch_prices(self, skus: list[str]) -> dict[str, Price]:
        return {s: self.prices[s] for s in skus if s in self.prices}

    def check(self) -> str:
        return "ok"

    def close(self) -> None:
        pass


def test_failures_are_retried_and_mismatches_are_reported(
    engine: Engine, settings: Settings
) -> None:
    skus = [f"S{i}" for i in range(1, 7)]
    add_products(engine, skus)
    ids = add_changes(engine, add_run(engine), dict.fromkeys(skus, 12000))
    connector = FlakyConnector()
    progress: list[tuple[int, int]] = []

    summary = push_changes(
        settings, engine, connector=connector, progress=lambda d, t: progress.append((d, t))
    )

    assert all(len(b) <= 2 for b in connector.sent) and progress[-1] == (6, 6)
    even = {s for s, i in ids.items() if i % 2 == 0}
    assert summary.pushed == len(even) and summary.failed == 6 - len(even)
    assert {s for s, _ in summary.failures} == set(skus) - even
    st = statuses(engine)
    assert {s for s in skus if st[s] in ("confirmed", "mismatch")} == even
    assert {s for s in skus if st[s] == "failed"} == set(skus) - even
    if "S2" in even:
        assert [m.sku for m in summary.mismatches] == ["S2"]
        assert summary.mismatches[0].seen == 12001
        assert any(a["status"] == "mismatch" and "shows" in a["error"] for a in attempts(engine))


def test_file_storefront_carries_stock_from_suppliers(engine: Engine, settings: Settings) -> None:
    add_products(engine, ["IN", "OUT", "NONE", "OWN", "UNKNOWN"])
    add_products(engine, ["MINE"], stock=3)
    add_offer(engine, "IN", cost=5000, stock=7)
    add_offer(engine, "OUT", cost=5000, stock=0)
    add_offer(engine, "UNKNOWN", cost=5000, stock=None)
    add_offer(engine, "MINE", cost=5000, stock=0, available=False)
    add_changes(engine, add_run(engine), {"IN": 12345})

    push_changes(settings, engine)

    rows = read_csv(settings.storefront.file.path / "prices.csv")
    assert list(rows["IN"].values()) == ["IN", "123.45", "RUB", "7", "true"]
    assert (rows["OUT"]["stock"], rows["OUT"]["available"]) == ("0", "false")
    assert (rows["NONE"]["stock"], rows["NONE"]["available"]) == ("0", "false")
    assert (rows["UNKNOWN"]["stock"], rows["UNKNOWN"]["available"]) == ("", "true")
    assert (rows["MINE"]["stock"], rows["MINE"]["available"]) == ("3", "true")
    yml = (settings.storefront.file.path / "prices.yml").read_text(encoding="utf-8")
    assert (
        '<offer id="IN" available="true"><price>123.45</price><currencyId>RUB</currencyId><count>7</count></offer>'
        in yml
    )
    assert not list(settings.storefront.file.path.glob(".*tmp"))


def test_file_storefront_is_refreshed_without_changes(engine: Engine, settings: Settings) -> None:
    add_products(engine, ["A"])
    add_offer(engine, "A", cost=5000, stock=2)
    summary = push_changes(settings, engine)
    assert summary.candidates == 0
    assert read_csv(settings.storefront.file.path / "prices.csv")["A"]["stock"] == "2"


@pytest.mark.slow
def test_push_on_postgresql(pg_url: str, settings: Settings) -> None:
    from repricer.db import Base, make_engine

    pg = make_engine(pg_url)
    Base.metadata.drop_all(pg)
    Base.metadata.create_all(pg)
    try:
        add_products(pg, ["A", "B", "C"], min_price=9000)
        add_offer(pg, "A", cost=5000, stock=4)
        run = add_run(pg)
        add_changes(pg, run, {"A": 12000, "B": 100}, decided_at=EARLIER)
        add_changes(pg, add_run(pg), {"C": 9500})
        summary = push_changes(settings, pg)
        assert (summary.pushed, summary.held, summary.confirmed) == (2, 1, 2)
        assert statuses(pg) == {"A": "confirmed", "B": "held", "C": "confirmed"}
        assert [a["status"] for a in attempts(pg)].count("confirmed") == 2
        assert read_csv(settings.storefront.file.path / "prices.csv")["A"]["stock"] == "4"
    finally:
        Base.metadata.drop_all(pg)
        pg.dispose()


def test_holds_below_the_rule_floor_with_todays_cost(engine: Engine, settings: Settings) -> None:
    rules = settings.pricing.rules_dir
    rules.mkdir()
    (rules / "default.toml").write_text(
        '[defaults]\nmin_margin = "20%"\n\n[[rule]]\nname = "kitchen"\nmatch = { category = ["kitchen"] }\nstrategy = "keep"\nmin_margin = "50%"\n\n[[rule]]\nname = "default"\nstrategy = "beat_lowest"\n',
        encoding="utf-8",
    )
    add_products(engine, ["OK", "THIN"])
    add_products(engine, ["POT"], category="kitchen")
    for sku in ("OK", "THIN", "POT"):
        add_offer(engine, sku, cost=10000)
    add_changes(engine, add_run(engine), {"OK": 12000, "THIN": 11999, "POT": 14000})
    summary = push_changes(settings, engine)
    assert summary.pushed == 1
    holds = dict(summary.holds)
    assert holds["THIN"] == "below the floor 120\u00a0₽ of rule 'default'"
    assert holds["POT"] == "below the floor 150\u00a0₽ of rule 'kitchen'"


def test_invalid_rules_stop_the_push(engine: Engine, settings: Settings) -> None:
    settings.pricing.rules_dir.mkdir()
    (settings.pricing.rules_dir / "bad.toml").write_text("[[rule]]\nname = 3\n", encoding="utf-8")
    add_products(engine, ["A"])
    add_changes(engine, add_run(engine), {"A": 12000})
    with pytest.raises(RulesError):
        push_changes(settings, engine)
    assert statuses(engine) == {"A": "approved"}
