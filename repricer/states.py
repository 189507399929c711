"""Price-change states: every allowed move, in one place, and the compare-and-set that
makes one.

The repricing engine writes a change as ``unchanged``, ``skipped``, ``proposed`` or
``needs_approval``. From there::

    proposed        -> approved | needs_approval | rejected | expired | superseded
    needs_approval  -> approved | rejected | expired | superseded
    approved        -> pushing | held | rejected | expired | superseded
    pushing         -> pushed | failed | approved
    failed          -> approved | rejected | expired | superseded
    pushed          -> confirmed | mismatch

``superseded``: a newer applied run decided the product again (in the transaction that
stores that run). ``expired``: left undecided or unpushed past
``pricing.approval.expire_after``. ``pushing``: claimed by the one running push just
before it sends the change, so a reject, expiry or newer run arriving meanwhile cannot
touch it and one the push did not claim is never sent. ``pushing -> approved`` is a claim
given back unsent, or left by a push that died (the next push re-sends it); ``failed ->
approved`` is the retry. ``confirmed``/``mismatch``: what the storefront showed on read-
back. ``unchanged``, ``skipped``, ``rejected``, ``expired``, ``superseded``, ``held``,
``confirmed`` and ``mismatch`` are final.

Every move is :func:`move`: ``UPDATE ... SET status = <to> WHERE status IN (<from>)``
inside the caller's transaction, returning the ids that really moved; a move this table
does not allow raises :class:`IllegalTransition` before touching the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, Connection, Table, true, update

from repricer.db.models import PriceChange
from repricer.exceptions import RepricerError

PENDING = ("proposed", "needs_approval")
UNPUSHED = (*PENDING, "approved", "failed")  # decided again by a newer run; rejectable
PUSHED = ("pushed", "confirmed", "mismatch")  # the storefront got the price

TRANSITIONS: Mapping[str, frozenset[str]] = {
    "proposed": frozenset({"approved", "needs_approval", "rejected", "expired", "superseded"}),
    "needs_approval": frozenset({"approved", "rejected", "expired", "superseded"}),
    "approved": frozenset({"pushing", "held", "rejected", "expired", "superseded"}),
    "pushing": frozenset({"pushed", "failed", "approved"}),
    "failed": frozenset({"approved", "rejected", "expired", "superseded"}),
    "pushed": frozenset({"confirmed", "mismatch"}),
}
ENGINE_STATES = ("unchanged", "skipped", "proposed", "needs_approval")
STATES: tuple[str, ...] = tuple(
    dict.fromkeys([*ENGINE_STATES, *TRANSITIONS, *(t for ts in TRANSITIONS.values() for t in ts)])
)
_CHUNK = 5000  # ids per statement (SQLite's bound-parameter limit is far above)
_changes = cast(Table, PriceChange.__table__)


class IllegalTransition(RepricerError):
    """Raised by :func:`move` (before any write) for a move :data:`TRANSITIONS` does not allow."""


def allowed(source: str, target: str) -> bool:
    """Whether a change may go from ``source`` to ``target``."""
    return target in TRANSITIONS.get(source, frozenset())


def check_move(sources: Iterable[str], target: str) -> tuple[str, ...]:
    """The ``sources`` as a tuple; raise :class:`IllegalTransition` unless every one may
    move to ``target``."""
    sources = tuple(sources)
    for source in sources:
        if not allowed(source, target):
            raise IllegalTransition(f"a price change cannot go from {source} to {target}")
    return sources


def move_all(
    conn: Connection,
    sources: str | Iterable[str],
    target: str,
    *,
    where: ColumnElement[bool],
    values: Mapping[str, Any] | None = None,
) -> int:
    """:func:`move` of every change matching ``where`` that is in one of ``sources``,
    returning only how many moved (one statement, no row comes back): for moves of a
    whole run, which may hold a hundred thousand changes."""
    sources = check_move((sources,) if isinstance(sources, str) else sources, target)
    stmt = update(_changes).values(status=target, **dict(values or {}))
    return int(conn.execute(stmt.where(_changes.c.status.in_(sources) & where)).rowcount)


def move(
    conn: Connection,
    ids: Sequence[int] | None,
    sources: str | Iterable[str],
    target: str,
    *,
    where: ColumnElement[bool] | None = None,
    values: Mapping[str, Any] | None = None,
) -> list[int]:
    """Compare-and-set: move the changes ``ids`` (or, with ``ids`` None, every change
    matching ``where``) that are in one of ``sources`` to ``target``; returns the ids that
    moved. Changes in any other state are left as they are: the caller compares the
    result with what it asked for. ``values`` are extra columns to set."""
    sources = check_move((sources,) if isinstance(sources, str) else sources, target)
    condition: ColumnElement[bool] = _changes.c.status.in_(sources)
    if where is not None:
        condition = condition & where
    stmt = update(_changes).values(status=target, **dict(values or {})).returning(_changes.c.id)
    if ids is None:
        return sorted(int(i) for i in conn.execute(stmt.where(condition)).scalars())
    moved: list[int] = []
    unique = sorted(set(ids))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        clause = condition & _changes.c.id.in_(chunk) if chunk else ~true()
        moved += [int(i) for i in conn.execute(stmt.where(clause)).scalars()]
    return sorted(moved)
