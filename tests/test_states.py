"""The price-change state machine: every move not in the table is refused before any
write; an allowed move only happens from the expected state (compare-and-set)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from repricer.db import Base, make_engine
from repricer.states import STATES, TRANSITIONS, IllegalTransition, allowed, move
from tests.storefront.seed import add_changes, add_products, add_run, statuses

FORBIDDEN = [(a, b) for a, b in itertools.product(STATES, STATES) if not allowed(a, b)]
ALLOWED = [(a, b) for a, targets in TRANSITIONS.items() for b in sorted(targets)]


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, dict[str, int]]]:
    """One change in every state (SKU = state name); tests roll their moves back."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('states') / 's.db'}")
    Base.metadata.create_all(engine)
    add_products(engine, STATES)
    run = add_run(engine)
    ids = {s: add_changes(engine, run, {s: 12000}, status=s)[s] for s in STATES}
    yield engine, ids
    engine.dispose()


def test_the_documented_moves() -> None:
    assert TRANSITIONS["approved"] >= {"pushing", "rejected", "expired", "superseded"}
    assert TRANSITIONS["pushing"] == {"pushed", "failed", "approved"}
    assert TRANSITIONS["failed"] >= {"approved"}
    assert TRANSITIONS["pushed"] == {"confirmed", "mismatch"}
    for final in ("unchanged", "skipped", "rejected", "expired", "superseded", "held"):
        assert final in STATES and final not in TRANSITIONS
    assert len(FORBIDDEN) + len(ALLOWED) == len(STATES) ** 2


@pytest.mark.parametrize(("source", "target"), FORBIDDEN, ids=[f"{a}->{b}" for a, b in FORBIDDEN])
def test_forbidden_move_is_refused(
    board: tuple[Engine, dict[str, int]], source: str, target: str
) -> None:
    engine, ids = board
    with engine.begin() as conn, pytest.raises(IllegalTransition, match=f"{source} to {target}"):
        move(conn, [ids[source]], source, target)
    assert statuses(engine)[source] == source


@pytest.mark.parametrize(("source", "target"), ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
def test_allowed_move_happens_only_from_the_expected_state(
    board: tuple[Engine, dict[str, int]], source: str, target: str
) -> None:
    engine, ids = board
    change = ids[source]
    others = [s for s in TRANSITIONS if s != source and allowed(s, target)]
    with engine.connect() as conn, conn.begin() as tx:
        if others:  # expecting another state: the change is left alone
            assert move(conn, [change], others, target) == []
        assert move(conn, [change], source, target) == [change]
        assert move(conn, [change], source, target) == []  # done: nothing left to move
        tx.rollback()
    assert statuses(engine)[source] == source


def test_compare_and_set_on_postgresql(pg_engine: Engine) -> None:
    add_products(pg_engine, ["X"])
    change = add_changes(pg_engine, add_run(pg_engine), {"X": 12000})["X"]
    with pg_engine.begin() as conn:
        assert move(conn, [change], "approved", "pushing") == [change]
    with pg_engine.begin() as conn:
        assert move(conn, [change], "approved", "rejected") == []
    with pg_engine.begin() as conn, pytest.raises(IllegalTransition):
        move(conn, [change], "pushing", "rejected")
    assert statuses(pg_engine) == {"X": "pushing"}
