"""Review of the price changes of a repricing run: auto-approval, approve, reject, expire.

The states and every allowed move are listed once, in :mod:`repricer.states`; each move
here is a compare-and-set there (``UPDATE ... WHERE status IN (<expected>)``) inside the
transaction that records it, so a decision can never overwrite one made meanwhile (a
change the push claimed, a change another reviewer rejected). Moves made here::

    proposed -> approved (inside the band, by "auto") | needs_approval (the rest)
    proposed | needs_approval -> approved (approve)
    proposed | needs_approval | approved | failed -> rejected (reject)
                                                  -> expired (expire_approvals)
                                                  -> superseded (a newer applied run)

Asking to move a change from any other state raises :class:`ReviewError` naming the
change id, and nothing changes. Changes of a dry run are never reviewed.
``approved_by``/``approved_at`` record who decided and when, for rejections as well as
approvals (``"auto"`` for the band).
"""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import ColumnElement, Connection, Engine, Select, and_, func, or_, select, update
from sqlalchemy.orm import Session

from repricer.config import Settings
from repricer.db.engine import session_scope
from repricer.db.models import PriceChange, Product, RepricingRun
from repricer.exceptions import NotFoundError, ReviewError
from repricer.lease import transaction_lock
from repricer.pricing.stored_explanations import fill_explanations
from repricer.states import PENDING as PENDING  # the queue and alerts import it from here
from repricer.states import STATES, UNPUSHED, check_move, move, move_all

APPLY_LOCK = "apply"  # serialises storing an applied run with its review (transaction lock)
STATUSES = STATES
REJECTABLE = UNPUSHED
AUTO = "auto"


@dataclass(frozen=True)
class ChangeFilter:
    """Which changes a review command acts on; every given field must match.

    ``max_change`` is a fraction (``Decimal("0.05")`` for 5%) of the old price.
    """

    ids: Sequence[int] = ()
    run_id: int | None = None
    category: str | None = None
    max_change: Decimal | None = None

    def is_empty(self) -> bool:
        return (
            not self.ids and self.run_id is None and not self.category and self.max_change is None
        )


def current_user() -> str:
    """The OS user name, recorded as the reviewer when none is given."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def within_band(band: Decimal) -> ColumnElement[bool]:
    """SQL: ``|new - old| <= band * old`` in exact integer arithmetic (old price > 0)."""
    num, den = band.as_integer_ratio()
    return and_(
        PriceChange.old_price > 0,
        PriceChange.new_price.is_not(None),
        func.abs(PriceChange.new_price - PriceChange.old_price) * den
        <= PriceChange.old_price * num,
    )


def auto_approve(
    settings: Settings, engine: Engine, run_id: int, *, now: datetime | None = None
) -> int:
    """Review a stored run on its own: :func:`review_applied_run` in its own transaction
    (serialised with every other apply). :func:`repricer.flow.apply_repricing` does the
    same inside the transaction that stores the run; prefer it."""
    with engine.begin() as conn:
        transaction_lock(conn, APPLY_LOCK)
        return review_applied_run(conn, settings, run_id, now=now)


def review_applied_run(
    conn: Connection, settings: Settings, run_id: int, *, now: datetime | None = None
) -> int:
    """In the caller's transaction: supersede the unpushed changes of earlier runs for the
    products this run decided (the newer decision replaces them), approve the run's
    ``proposed`` changes inside ``pricing.approval.auto_approve_band`` (approved_by
    ``"auto"``) and send the rest to ``needs_approval``. When the circuit breaker sent the
    run to approval (run status ``needs_approval``) nothing is approved.

    Returns how many changes were approved. Raises ``NotFoundError`` for an unknown run
    and ``ReviewError`` for a dry run.
    """
    now = now or datetime.now(UTC)
    band = settings.pricing.approval.auto_approve_band
    row = conn.execute(
        select(RepricingRun.status, RepricingRun.summary).where(RepricingRun.id == run_id)
    ).first()
    run_status = row.status if row is not None else None
    _check_reviewable(run_id, run_status)
    supersede_earlier(conn, run_id, (row.summary if row is not None else None) or {})
    of_run = PriceChange.run_id == run_id
    approved = 0
    if run_status != "needs_approval":
        approved = move_all(
            conn,
            "proposed",
            "approved",
            where=of_run & within_band(band),
            values={"approved_by": AUTO, "approved_at": now},
        )
    move_all(conn, "proposed", "needs_approval", where=of_run)
    return approved


def review_new_changes(
    settings: Settings, changes: pd.DataFrame, run_status: str, now: datetime | None = None
) -> tuple[pd.DataFrame, int]:
    """:func:`review_applied_run`'s moves of a run's own changes, made on them before
    they are written (in the transaction that stores the run, which alone sees them):
    ``changes`` (a run's decisions: status, old_price, new_price) with ``status``,
    ``approved_by`` and ``approved_at`` as the review leaves them, and how many were
    approved. Updating freshly written rows instead costs a second row version each
    and, on PostgreSQL, their foreign-key checks again. The earlier runs' changes are
    superseded once the run is stored (:func:`supersede_for_run`)."""
    now = now or datetime.now(UTC)
    check_move(["proposed"], "approved")
    check_move(["proposed"], "needs_approval")
    status = changes["status"].to_numpy(dtype=object)
    proposed = status == "proposed"
    approve = np.zeros(len(changes), dtype=bool)
    if run_status != "needs_approval":
        band = settings.pricing.approval.auto_approve_band
        approve = proposed & in_band(changes["old_price"], changes["new_price"], band)
    by, at = np.full(len(changes), None, dtype=object), np.full(len(changes), None, dtype=object)
    by[approve], at[approve] = AUTO, now
    status = np.where(approve, "approved", np.where(proposed, "needs_approval", status))
    reviewed = changes.assign(
        status=status,
        approved_by=pd.Series(by, index=changes.index, dtype=object),
        approved_at=pd.Series(at, index=changes.index, dtype=object),
    )
    return reviewed, int(np.count_nonzero(approve))


def in_band(old: pd.Series, new: pd.Series, band: Decimal) -> npt.NDArray[np.bool_]:
    """:func:`within_band` over columns of money (Int64): ``|new - old| <= band * old``
    in exact integer arithmetic, old price > 0, new price known."""
    num, den = band.as_integer_ratio()
    known = (old.notna() & new.notna()).to_numpy(dtype=bool)
    before = old.to_numpy(dtype=np.int64, na_value=0)
    after = new.to_numpy(dtype=np.int64, na_value=0)
    inside = np.abs(after - before) * den <= before * num
    result: npt.NDArray[np.bool_] = known & (before > 0) & inside
    return result


def supersede_for_run(conn: Connection, run_id: int) -> int:
    """:func:`supersede_earlier` for the stored run ``run_id`` (its summary says which
    products it decided)."""
    summary = conn.execute(select(RepricingRun.summary).where(RepricingRun.id == run_id)).scalar()
    return supersede_earlier(conn, run_id, summary or {})


def supersede_earlier(conn: Connection, run_id: int, summary: dict[str, Any]) -> int:
    """Move the unpushed changes of earlier runs for the products ``run_id`` decided to
    ``superseded``; returns how many. A run stores only changes and skips: a run over
    the whole catalog decided every product (the unchanged ones keep their price), one
    over some SKUs only those."""
    skus = summary.get("skus", [])
    if skus is None:
        scope = PriceChange.id.is_not(None)
    elif skus:
        scope = PriceChange.sku.in_(skus)
    else:  # a run stored before runs kept only changes
        scope = PriceChange.product_id.in_(
            select(PriceChange.product_id).where(PriceChange.run_id == run_id)
        )
    earlier = and_(
        PriceChange.run_id < run_id,
        PriceChange.run_id.in_(_reviewed_runs()),
        scope,
    )
    return move_all(conn, UNPUSHED, "superseded", where=earlier)


def _reviewed_runs() -> Select[int]:
    return select(RepricingRun.id).where(RepricingRun.status != "dry_run")


def approve(
    engine: Engine,
    *,
    ids: Sequence[int] = (),
    run_id: int | None = None,
    category: str | None = None,
    max_change: Decimal | None = None,
    by: str | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Approve pending changes chosen by ids and/or filters; returns the approved ids.

    With ids, every id must exist and be ``proposed``/``needs_approval`` and match the
    filters, else ``ReviewError`` naming it (and nothing changes). With filters only,
    the pending changes that match are approved. ``by`` defaults to the OS user.
    """
    chosen = ChangeFilter(ids, run_id, category, max_change)
    return _decide(engine, chosen, PENDING, "approved", by, now)


def reject(
    engine: Engine,
    *,
    ids: Sequence[int] = (),
    run_id: int | None = None,
    category: str | None = None,
    max_change: Decimal | None = None,
    by: str | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Reject pending or approved-but-not-pushed changes; same selection as :func:`approve`."""
    chosen = ChangeFilter(ids, run_id, category, max_change)
    return _decide(engine, chosen, REJECTABLE, "rejected", by, now)


def expire_approvals(settings: Settings, engine: Engine, now: datetime | None = None) -> int:
    """Expire approvals older than ``pricing.approval.expire_after``: approved changes not
    pushed within that time of ``approved_at``, and pending ones not decided within that
    time of ``decided_at``. The next repricing run decides those products again.

    Returns how many changes expired.
    """
    now = now or datetime.now(UTC)
    cutoff = now - settings.pricing.approval.expire_after
    stale = or_(
        and_(
            PriceChange.status.in_(("approved", "failed")),
            func.coalesce(PriceChange.approved_at, PriceChange.decided_at) < cutoff,
        ),
        and_(PriceChange.status.in_(PENDING), PriceChange.decided_at < cutoff),
    )
    with engine.begin() as conn:
        where = stale & PriceChange.run_id.in_(_reviewed_runs())
        return len(move(conn, None, UNPUSHED, "expired", where=where))


def list_changes(
    engine: Engine,
    *,
    run_id: int | None = None,
    status: str | None = None,
    category: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Changes for review, newest run first. ``status`` None or ``"pending"`` lists the
    queue (proposed and needs_approval, dry runs left out); ``"all"`` lists every status."""
    query = (
        select(
            PriceChange, Product.title, Product.category, RepricingRun.status.label("run_status")
        )
        .join(Product, Product.id == PriceChange.product_id)
        .join(RepricingRun, RepricingRun.id == PriceChange.run_id)
        .where(*_filter_clauses(ChangeFilter(run_id=run_id, category=category)))
        .order_by(PriceChange.run_id.desc(), PriceChange.sku)
        .limit(limit)
    )
    if status not in (None, "pending", "all", *STATUSES):
        raise ReviewError(
            f"unknown status {status!r} (use pending, all or one of {', '.join(STATUSES)})"
        )
    if status in (None, "pending"):
        query = query.where(PriceChange.status.in_(PENDING), RepricingRun.status != "dry_run")
    elif status != "all":
        query = query.where(PriceChange.status == status)
    with session_scope(engine) as session:
        found = session.execute(query).all()
        rows = [_row(change, title, cat, run_status) for change, title, cat, run_status in found]
        keys = [
            {"run_id": c.run_id, "product_id": c.product_id, "explanation": c.explanation}
            for c, *_ in found
        ]
        fill_explanations(session.connection(), keys)
    for row, key in zip(rows, keys, strict=True):
        row["explanation"] = key["explanation"]
    return rows


def _row(
    change: PriceChange, title: str | None, category: str | None, run_status: str
) -> dict[str, Any]:
    change_pct = None
    if change.old_price and change.new_price is not None:
        change_pct = round((change.new_price - change.old_price) * 100 / change.old_price, 2)
    return {
        "id": change.id,
        "run_id": change.run_id,
        "run_status": run_status,
        "sku": change.sku,
        "title": title,
        "category": category,
        "currency": change.currency,
        "old_price": change.old_price,
        "new_price": change.new_price,
        "change_pct": change_pct,
        "status": change.status,
        "rule": change.rule,
        "explanation": change.explanation,
        "approved_by": change.approved_by,
        "approved_at": change.approved_at,
    }


def _decide(
    engine: Engine,
    chosen: ChangeFilter,
    allowed: tuple[str, ...],
    target: str,
    by: str | None,
    now: datetime | None,
) -> list[int]:
    if chosen.is_empty():
        raise ReviewError(
            f"say which changes to mark {target}: ids, --run, --category or --max-change"
        )
    if chosen.max_change is not None and chosen.max_change < 0:
        raise ReviewError(f"--max-change must not be negative (got {chosen.max_change})")
    now = now or datetime.now(UTC)
    values = {"approved_by": by or current_user(), "approved_at": now}
    with session_scope(engine) as session:
        if chosen.run_id is not None:
            _reviewable_run(session, chosen.run_id)
        conn = session.connection()
        if not chosen.ids:
            where = PriceChange.id.in_(_matching(chosen, allowed))
            return move(conn, None, allowed, target, where=where, values=values)
        ids = _checked_ids(session, chosen, allowed, target)
        moved = move(conn, ids, allowed, target, values=values)
        if moved != ids:  # one changed state since it was checked: decide nothing (rollback)
            lost = sorted(set(ids) - set(moved))[0]
            raise ReviewError(
                f"price change {lost}: its state changed meanwhile (pushed, rejected or "
                f"superseded); nothing was marked {target}, list the queue again"
            )
    return ids


def _matching(chosen: ChangeFilter, allowed: tuple[str, ...]) -> Select[int]:
    """Ids of the changes of reviewed runs in an ``allowed`` state matching the filters
    (used as a sub-select, so a whole catalog needs no bound parameter per id)."""
    return (
        select(PriceChange.id)
        .join(Product, Product.id == PriceChange.product_id)
        .join(RepricingRun, RepricingRun.id == PriceChange.run_id)
        .where(
            *_filter_clauses(chosen),
            PriceChange.status.in_(allowed),
            RepricingRun.status != "dry_run",
        )
        .order_by(PriceChange.id)
    )


def _checked_ids(
    session: Session, chosen: ChangeFilter, allowed: tuple[str, ...], target: str
) -> list[int]:
    query = (
        select(PriceChange.id, PriceChange.status, RepricingRun.status, _filter_match(chosen))
        .join(Product, Product.id == PriceChange.product_id)
        .join(RepricingRun, RepricingRun.id == PriceChange.run_id)
        .where(PriceChange.id.in_(chosen.ids))
    )
    found = {row[0]: row for row in session.execute(query)}
    for change_id in chosen.ids:
        _check_one(change_id, found.get(change_id), allowed, target)
    return sorted(set(chosen.ids))


def _check_one(change_id: int, row: Any, allowed: tuple[str, ...], target: str) -> None:
    if row is None:
        raise ReviewError(f"price change {change_id}: no such change")
    _, status, run_status, matches = row
    if run_status == "dry_run":
        raise ReviewError(
            f"price change {change_id}: belongs to a dry run, which is never reviewed"
        )
    if status not in allowed:
        raise ReviewError(f"price change {change_id}: cannot go from {status} to {target}")
    if not matches:
        raise ReviewError(
            f"price change {change_id}: does not match the given --run/--category/--max-change"
        )


def _filter_clauses(chosen: ChangeFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if chosen.run_id is not None:
        clauses.append(PriceChange.run_id == chosen.run_id)
    if chosen.category:
        clauses.append(func.lower(Product.category) == chosen.category.lower())
    if chosen.max_change is not None:
        clauses.append(within_band(chosen.max_change))
    return clauses


def _filter_match(chosen: ChangeFilter) -> ColumnElement[bool]:
    clauses = _filter_clauses(chosen)
    return and_(*clauses) if clauses else PriceChange.id.is_not(None)


def _reviewable_run(session: Session, run_id: int) -> RepricingRun:
    run = session.get(RepricingRun, run_id)
    _check_reviewable(run_id, run.status if run else None)
    assert run is not None
    return run


def _check_reviewable(run_id: int, status: str | None) -> None:
    if status is None:
        raise NotFoundError(f"repricing run {run_id}: no such run")
    if status == "dry_run":
        raise ReviewError(f"repricing run {run_id}: a dry run is never reviewed or pushed")


def decide_where(
    engine: Engine,
    where: ColumnElement[bool],
    target: str,
    *,
    by: str | None = None,
    comment: str | None = None,
    now: datetime | None = None,
) -> int:
    """Approve (``target`` "approved") or reject every change matching ``where`` (a
    condition over ``price_changes``, e.g. :func:`repricer.queue.matching_clause`) that
    is in a state allowing the move, in one statement; records who, when and the
    comment. Returns how many moved."""
    allowed = {"approved": PENDING, "rejected": REJECTABLE}.get(target)
    if allowed is None:
        raise ReviewError(f"cannot mark changes {target!r} (use approved or rejected)")
    values = {
        "approved_by": by or current_user(),
        "approved_at": now or datetime.now(UTC),
        "comment": comment or None,
    }
    with session_scope(engine) as session:
        moved = move(session.connection(), None, allowed, target, where=where, values=values)
        return len(moved)


def comment_on(engine: Engine, ids: Sequence[int], comment: str | None) -> None:
    """Record the reviewer's comment on changes just decided (approve/reject by ids)."""
    if not ids or not comment:
        return
    with session_scope(engine) as session:
        session.execute(
            update(PriceChange)
            .where(PriceChange.id.in_(list(ids)))
            .values(comment=comment)
            .execution_options(synchronize_session=False)
        )


def override(
    engine: Engine,
    change_id: int,
    price: int,
    *,
    by: str | None = None,
    comment: str | None = None,
    now: datetime | None = None,
) -> PriceChange:
    """Approve pending change ``change_id`` at ``price`` instead of the proposed price.

    The price is checked against the floor and ceiling exactly as the run's rules bound
    a decision (:mod:`repricer.pricing.override`); a price outside them raises
    ReviewError naming the bound, and nothing changes. The proposed price is kept in
    ``proposed_price``; the change then goes the usual way (push as approved).
    """
    from repricer.pricing.override import check_override, override_bounds, product_inputs

    with session_scope(engine) as session:
        change = session.get(PriceChange, change_id)
        if change is None:
            raise ReviewError(f"price change {change_id}: no such change")
        run = session.get(RepricingRun, change.run_id)
        _check_one(
            change_id,
            (change_id, change.status, run.status if run else None, True),
            PENDING,
            "approved",
        )
        summary = run.summary if run else {}
        row = {
            c: getattr(change, c)
            for c in ("sku", "currency", "cost", "floor", "ceiling", "rule", "inputs")
        }
        if not row["inputs"]:  # runs keep their inputs compactly, apart from the changes
            row["inputs"] = product_inputs(session.connection(), change.run_id, change.product_id)
        bounds = override_bounds(
            row, summary.get("rules"), summary.get("currency", change.currency)
        )
        check_override(bounds, price, label=f"SKU {change.sku} (price change {change_id})")
        values = {
            "proposed_price": func.coalesce(PriceChange.proposed_price, PriceChange.new_price),
            "new_price": price,
            "approved_by": by or current_user(),
            "approved_at": now or datetime.now(UTC),
            "comment": comment or None,
        }
        if move(session.connection(), [change_id], PENDING, "approved", values=values) != [
            change_id
        ]:
            raise ReviewError(
                f"price change {change_id}: its state changed meanwhile; nothing done"
            )
        session.refresh(change)
        return change
