"""Thin old competitor observations: keep the latest per listing, fold the rest into
``observation_daily``.

Per listing two observations are always kept whatever their age: the latest trusted one
(the one pricing would use, see :mod:`repricer.db.trusted`) and the latest other one
(the listing's health shows the latest crawl outcome). Every other observation older
than the cutoff is deleted; before that, the trusted ones among them are folded into one
``observation_daily`` row per (listing, UTC day): lowest, highest and last price, the
last one's time, currency and availability, and how many were folded. A day already
there (an earlier prune cut it in two) is merged, not replaced. Each observation is
folded in the transaction that deletes it, so running a prune twice folds nothing twice.

Everything runs as set-based SQL inside the database (a temporary table of the doomed
ids, ``INSERT ... SELECT ... ON CONFLICT DO UPDATE``), never row by row in Python.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    MetaData,
    Table,
    and_,
    case,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from repricer.db.models import (
    Competitor,
    CrawlSiteStats,
    Listing,
    Observation,
    ObservationDaily,
)
from repricer.db.trusted import site_health_join, trusted_conditions

_obs = cast(Table, Observation.__table__)
_listings = cast(Table, Listing.__table__)
_competitors = cast(Table, Competitor.__table__)
_stats = cast(Table, CrawlSiteStats.__table__)
_daily = cast(Table, ObservationDaily.__table__)
_doomed = Table(
    "prune_observations",
    MetaData(),
    Column("id", BigInteger, primary_key=True),
    prefixes=["TEMPORARY"],
)


def thin_observations(conn: Connection, cutoff: datetime) -> tuple[int, int]:
    """Fold and delete the observations older than ``cutoff`` that are not kept (see the
    module docstring); returns (observations deleted, observation_daily rows written)."""
    _doomed.drop(conn, checkfirst=True)
    _doomed.create(conn)
    try:
        conn.execute(insert(_doomed).from_select(["id"], _doomed_ids(cutoff)))
        written = _fold_daily(conn)
        deleted = conn.execute(delete(_obs).where(_obs.c.id.in_(select(_doomed.c.id))))
        return int(deleted.rowcount or 0), written
    finally:
        _doomed.drop(conn)


def _trusted() -> ColumnElement[bool]:
    return and_(*trusted_conditions(_obs.c, _competitors.c, _stats.c))


def _with_trust(stmt: Any) -> Any:
    """Join what :func:`_trusted` needs to a select over observations."""
    return (
        stmt.join(_listings, _listings.c.id == _obs.c.listing_id)
        .join(_competitors, _competitors.c.id == _listings.c.competitor_id)
        .outerjoin(_stats, site_health_join(_obs.c, _listings.c, _stats.c))
    )


def _doomed_ids(cutoff: datetime) -> Any:
    trusted = case((_trusted(), 1), else_=0)
    newest = func.row_number().over(
        partition_by=(_obs.c.listing_id, trusted),
        order_by=(_obs.c.observed_at.desc(), _obs.c.id.desc()),
    )
    ranked = _with_trust(
        select(_obs.c.id, _obs.c.observed_at, newest.label("newest")).select_from(_obs)
    ).subquery()
    return select(ranked.c.id).where(ranked.c.newest > 1, ranked.c.observed_at < cutoff)


def _day(column: Any, dialect: str) -> ColumnElement[Any]:
    """SQL: the UTC calendar day of a timestamp column."""
    if dialect == "postgresql":
        return func.timezone("UTC", column).cast(Date)
    return func.date(column)  # SQLite keeps UTC text "YYYY-MM-DD HH:MM:SS..."


def _fold_daily(conn: Connection) -> int:
    dialect = conn.dialect.name
    day = _day(_obs.c.observed_at, dialect)
    group = (_obs.c.listing_id, day)
    ranked = _with_trust(
        select(
            _obs.c.listing_id,
            day.label("day"),
            func.min(_obs.c.price).over(partition_by=group).label("min_price"),
            func.max(_obs.c.price).over(partition_by=group).label("max_price"),
            _obs.c.price.label("last_price"),
            _obs.c.observed_at.label("last_at"),
            _obs.c.currency,
            _obs.c.availability,
            func.count().over(partition_by=group).label("count"),
            func.row_number()
            .over(partition_by=group, order_by=(_obs.c.observed_at.desc(), _obs.c.id.desc()))
            .label("newest"),
        )
        .select_from(_obs)
        .join(_doomed, _doomed.c.id == _obs.c.id)
    )
    ranked = ranked.where(_trusted()).subquery()
    columns = [
        "listing_id", "day", "min_price", "max_price", "last_price", "last_at",
        "currency", "availability", "count",
    ]  # fmt: skip
    rows = select(*(ranked.c[c] for c in columns)).where(ranked.c.newest == 1)
    dialect_insert: Any = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[dialect]
    stmt = dialect_insert(_daily).from_select(columns, rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=["listing_id", "day"], set_=_merged(stmt.excluded, dialect)
    )
    # preserve_rowcount: SQLAlchemy keeps the driver's count only for UPDATE/DELETE otherwise.
    done = conn.execute(stmt, execution_options={"preserve_rowcount": True})
    return max(0, int(done.rowcount or 0))


def _merged(new: Any, dialect: str) -> dict[str, ColumnElement[Any]]:
    """ON CONFLICT values: a day already folded gains the new observations."""
    old = _daily.c
    lowest, highest = (
        (func.least, func.greatest) if dialect == "postgresql" else (func.min, func.max)
    )
    later = new.last_at >= old.last_at

    def latest(name: str) -> ColumnElement[Any]:
        return case((later, new[name]), else_=old[name])

    return {
        "min_price": lowest(old.min_price, new.min_price),
        "max_price": highest(old.max_price, new.max_price),
        "last_price": latest("last_price"),
        "last_at": latest("last_at"),
        "currency": latest("currency"),
        "availability": latest("availability"),
        "count": old.count + new.count,
    }
