"""The review queue and reviewer decisions through the library, on SQLite and PostgreSQL:
filters, sorting and paging; deciding everything matching a filter; overrides checked
against the floor, ceiling and MAP as the run's rules bound them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from repricer import queue, review, states
from repricer.config import Settings, load_settings
from repricer.db.engine import session_scope
from repricer.db.models import PriceChange, Product
from repricer.exceptions import ReviewError
from repricer.pricing import reprice
from tests.web.seed import seed_market, write_config


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest) -> Engine:
    name = "engine" if request.param == "sqlite" else "pg_engine"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.fixture
def reviewed(db: Engine, tmp_path: Path) -> tuple[Settings, Engine]:
    settings = load_settings(write_config(tmp_path, "sqlite:///unused.db"))
    seed_market(db)
    run_id = reprice(settings, db, apply=True).run_id
    review.auto_approve(settings, db, run_id)
    return settings, db


def refusal(db: Engine, change_id: int, price: int) -> str:
    """The override's one-line refusal, spaces made plain (money uses no-break spaces)."""
    with pytest.raises(ReviewError) as caught:
        review.override(db, change_id, price, by="anna")
    return str(caught.value).replace("\xa0", " ")


def skus(page: queue.QueuePage) -> list[str]:
    return [row["sku"] for row in page.rows]


CASES = [
    ("everything pending", queue.QueueFilter(), ["GD-100", "GD-200", "KT-100", "KT-200", "KT-300"]),
    ("category", queue.QueueFilter(category="Garden"), ["GD-100", "GD-200"]),
    ("brand", queue.QueueFilter(brand="Aurora"), ["GD-200", "KT-100", "KT-300"]),
    ("rule", queue.QueueFilter(rule="default"), ["GD-100", "GD-200", "KT-100", "KT-200", "KT-300"]),
    ("direction up", queue.QueueFilter(direction="up"), ["KT-300"]),
    ("direction down", queue.QueueFilter(direction="down", brand="Boreal"), ["GD-100", "KT-200"]),
    ("at least 10%", queue.QueueFilter(min_change=Decimal("0.1")), ["GD-100", "KT-100", "KT-200", "KT-300"]),
    ("at most 10%", queue.QueueFilter(max_change=Decimal("0.1")), ["GD-200"]),
    ("search title, any case", queue.QueueFilter(search="KETTLE"), ["KT-200"]),
    ("search Cyrillic", queue.QueueFilter(search="Чайник"), ["KT-100"]),
    ("search SKU part", queue.QueueFilter(search="gd-"), ["GD-100", "GD-200"]),
    ("like wildcards are literal", queue.QueueFilter(search="%"), []),
    ("approved", queue.QueueFilter(status="approved"), []),
]  # fmt: skip


@pytest.mark.parametrize(("chosen", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_filters(
    reviewed: tuple[Settings, Engine], chosen: queue.QueueFilter, expected: list[str]
) -> None:
    _, db = reviewed
    page = queue.queue_page(db, chosen)
    assert skus(page) == expected
    assert page.total == len(expected)


def test_sorting_and_paging(reviewed: tuple[Settings, Engine]) -> None:
    _, db = reviewed
    by_change = queue.queue_page(db, queue.QueueFilter(), sort="change", descending=True)
    sizes = [abs(r["change_pct"]) for r in by_change.rows]
    assert sizes == sorted(sizes, reverse=True)
    first = queue.queue_page(db, queue.QueueFilter(), per_page=2)
    third = queue.queue_page(db, queue.QueueFilter(), per_page=2, page=3)
    assert (first.total, first.pages, skus(first), skus(third)) == (
        5,
        3,
        ["GD-100", "GD-200"],
        ["KT-300"],
    )
    with pytest.raises(ReviewError, match="unknown sort"):
        queue.queue_page(db, queue.QueueFilter(), sort="nope")


def test_decide_everything_matching_a_filter(reviewed: tuple[Settings, Engine]) -> None:
    _, db = reviewed
    chosen = queue.resolve_filter(db, queue.QueueFilter(brand="Aurora", direction="down"))
    moved = review.decide_where(
        db, queue.matching_clause(chosen), "approved", by="anna", comment="promo"
    )
    assert moved == 2
    approved = review.list_changes(db, status="approved")
    assert sorted(r["sku"] for r in approved) == ["GD-200", "KT-100"]
    assert {(r["approved_by"]) for r in approved} == {"anna"}
    with session_scope(db) as session:
        comments = set(
            session.scalars(select(PriceChange.comment).where(PriceChange.status == "approved"))
        )
    assert comments == {"promo"}
    # approved changes no longer match the pending queue; a second approve moves nothing
    assert review.decide_where(db, queue.matching_clause(chosen), "approved", by="anna") == 0
    rejected = review.decide_where(
        db,
        queue.matching_clause(queue.resolve_filter(db, queue.QueueFilter())),
        "rejected",
        by="bob",
    )
    assert rejected == 3


def test_override_is_checked_like_a_rule_decision(reviewed: tuple[Settings, Engine]) -> None:
    _, db = reviewed
    ids = {r["sku"]: r["id"] for r in review.list_changes(db)}
    assert refusal(db, ids["GD-100"], 100000) == (
        f"SKU GD-100 (price change {ids['GD-100']}): 1 000 ₽ is below the floor 1 344 ₽ "
        "(cost 1 200 ₽ + 12%)"
    )
    with pytest.raises(ReviewError, match="must be positive"):
        review.override(db, ids["GD-100"], 0, by="anna")
    done = review.override(db, ids["GD-100"], 139900, by="anna", comment="match the market")
    assert (done.status, done.new_price, done.proposed_price) == ("approved", 139900, 134900)
    assert (done.approved_by, done.comment) == ("anna", "match the market")
    with pytest.raises(ReviewError, match="cannot go from approved to approved"):
        review.override(db, ids["GD-100"], 140900, by="anna")


def test_override_names_map_and_ceiling(reviewed: tuple[Settings, Engine]) -> None:
    _, db = reviewed
    change = next(r for r in review.list_changes(db) if r["sku"] == "KT-200")
    with session_scope(db) as session:  # MAP and max price as the run recorded them
        row = session.get(PriceChange, change["id"])
        assert row is not None
        row.inputs = {**row.inputs, "map_price": 450000, "max_price": 480000}
    assert refusal(db, change["id"], 440000).endswith("4 400 ₽ is below the floor 4 500 ₽ (MAP)")
    assert refusal(db, change["id"], 490000).endswith("4 900 ₽ is above the ceiling 4 800 ₽")
    assert review.override(db, change["id"], 459900).new_price == 459900


def test_waiting_reasons(reviewed: tuple[Settings, Engine]) -> None:
    settings, db = reviewed
    band = settings.pricing.approval.auto_approve_band
    row = queue.queue_page(db, queue.QueueFilter(search="KT-300")).rows[0]
    assert queue.waiting_reason(row, band) == "+14.9% is outside the auto-approve band of ±1%"
    row |= {"flags": ["breaker"], "breaker": "5 of 5 products would change"}
    assert "circuit breaker" in (queue.waiting_reason(row, band) or "")
    with session_scope(db) as session:
        session.execute(update(Product).values(brand=None))
    assert queue.facets(db, None)["brand"] == []


def test_override_and_bulk_decisions_move_through_the_state_table(
    reviewed: tuple[Settings, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With approval taken out of :data:`repricer.states.TRANSITIONS`, neither the
    override nor a decision by filter can approve: both go through ``states.move``."""
    _, db = reviewed
    pending = {r["sku"]: r["id"] for r in review.list_changes(db)}
    table = {
        source: targets - {"approved"} if source in states.PENDING else targets
        for source, targets in states.TRANSITIONS.items()
    }
    monkeypatch.setattr(states, "TRANSITIONS", table)
    with pytest.raises(states.IllegalTransition, match="to approved"):
        review.override(db, pending["GD-100"], 139900, by="anna", comment="match the market")
    everything = queue.matching_clause(queue.resolve_filter(db, queue.QueueFilter()))
    with pytest.raises(states.IllegalTransition, match="to approved"):
        review.decide_where(db, everything, "approved", by="bob")
    after = {r["sku"]: (r["id"], r["status"]) for r in review.list_changes(db)}
    assert {sku: change for sku, (change, _) in after.items()} == pending
    with db.connect() as conn:
        row = conn.execute(
            select(PriceChange.new_price, PriceChange.approved_by, PriceChange.comment).where(
                PriceChange.id == pending["GD-100"]
            )
        ).one()
    assert tuple(row) == (134900, None, None)
