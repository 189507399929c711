"""Set-based diff of a parsed feed against ``supplier_offers``.

Parsed records are bulk-inserted into a temporary table (``feed_incoming``; a repeated
key overwrites the earlier row and bumps ``dup``), then every comparison is one SQL
statement over the whole feed: guard counts, the upsert of rows that differ, and marking
absent items unavailable. Nothing is held per row in Python, so memory stays flat and
the same code runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from repricer.db.models import Product, SupplierOffer
from repricer.feeds.records import RECORD_FIELDS, FeedRecord

_meta = MetaData()
incoming = Table(
    "feed_incoming",
    _meta,
    Column("key", String(100), primary_key=True),
    Column("offer_id", String(100)),
    Column("name", String(500)),
    Column("vendor", String(200)),
    Column("vendor_code", String(100)),
    Column("barcode", String(14)),
    Column("currency", String(3)),
    Column("cost", BigInteger),
    Column("retail_price", BigInteger),
    Column("old_price", BigInteger),
    Column("stock_qty", Integer),
    Column("available", Boolean),
    Column("dup", Integer, nullable=False),
    prefixes=["TEMPORARY"],
    sqlite_with_rowid=False,  # one B-tree keyed by key: faster to fill and to probe
)
offers = cast(Table, SupplierOffer.__table__)
products = cast(Table, Product.__table__)
# Fields compared to decide whether a stored offer changed (besides product_id).
COMPARED = [f for f in RECORD_FIELDS if f != "key"]


@dataclass(frozen=True)
class FeedDiff:
    """What applying the staged feed would do. ``known`` counts the supplier's items
    now available; ``big_moves`` of ``compared`` costs move more than the threshold."""

    staged: int
    duplicates: int
    duplicate_keys: list[str]
    known: int
    missing: int
    compared: int
    big_moves: int
    unmapped: int


# SQLite page caches while a feed is staged and compared: the defaults (2 MB) make a
# million-offer sync spill the temporary table to disk. Memory is only taken as used.
_SQLITE_SYNC_PRAGMAS = ("PRAGMA temp.cache_size = -262144", "PRAGMA main.cache_size = -131072")
_SQLITE_DEFAULT_PRAGMAS = ("PRAGMA temp.cache_size = -2000", "PRAGMA main.cache_size = -2000")


def create_staging(conn: Connection) -> None:
    """(Re)create the empty temporary table on this connection."""
    if conn.dialect.name == "sqlite":
        for pragma in _SQLITE_SYNC_PRAGMAS:
            conn.exec_driver_sql(pragma)
    incoming.drop(conn, checkfirst=True)
    incoming.create(conn)


def drop_staging(conn: Connection) -> None:
    """Drop the temporary table and give the caches back (the connection is pooled)."""
    incoming.drop(conn, checkfirst=True)
    if conn.dialect.name == "sqlite":
        for pragma in _SQLITE_DEFAULT_PRAGMAS:
            conn.exec_driver_sql(pragma)


def stage_records(conn: Connection, records: Sequence[FeedRecord]) -> None:
    """Insert one batch; a key already staged is overwritten (last wins) and counted.

    Records are tuples in column order, handed to the driver's ``executemany`` as they
    are: this is the per-row hot path of a sync.
    """
    if records:
        conn.exec_driver_sql(_staging_insert(conn.dialect.paramstyle), records)


def _staging_insert(paramstyle: str | None) -> str:
    mark = "?" if paramstyle == "qmark" else "%s"
    columns = ", ".join(RECORD_FIELDS)
    marks = ", ".join([mark] * len(RECORD_FIELDS))
    updates = ", ".join(f"{f} = excluded.{f}" for f in COMPARED)
    return (
        f"INSERT INTO {incoming.name} ({columns}, dup) VALUES ({marks}, 0) "
        f"ON CONFLICT (key) DO UPDATE SET {updates}, dup = {incoming.name}.dup + 1"
    )


def product_match(key_setting: str) -> Any:
    """Scalar subquery: our product id for ``feed_incoming.key`` under the supplier's key."""
    column = products.c.gtin if key_setting == "barcode" else products.c.sku
    return select(func.min(products.c.id)).where(column == incoming.c.key).scalar_subquery()


def analyse(
    conn: Connection, supplier_id: int, key_setting: str, max_cost_change: Decimal
) -> FeedDiff:
    """Count what the staged feed changes, for the guards; writes nothing."""
    mine = offers.c.supplier_id == supplier_id
    staged, duplicates = conn.execute(
        select(func.count(), func.coalesce(func.sum(incoming.c.dup), 0))
    ).one()
    dup_keys = conn.execute(select(incoming.c.key).where(incoming.c.dup > 0).limit(10)).scalars()
    ratio_bp = int(max_cost_change * 10000)
    moved = func.abs(incoming.c.cost - offers.c.cost) * 10000 > offers.c.cost * ratio_bp
    present = and_(incoming.c.key.is_not(None), offers.c.cost > 0)
    known, missing, compared, big = conn.execute(
        select(
            func.count().filter(offers.c.available),
            func.count().filter(offers.c.available, incoming.c.key.is_(None)),
            func.count().filter(present),
            func.count().filter(present, moved),
        )
        .select_from(offers.outerjoin(incoming, incoming.c.key == offers.c.key))
        .where(mine)
    ).one()
    unmapped = conn.execute(
        select(func.count()).select_from(incoming).where(product_match(key_setting).is_(None))
    ).scalar_one()
    return FeedDiff(
        staged, int(duplicates), list(dup_keys), known, missing, compared, big, unmapped
    )


def apply_changes(
    conn: Connection, supplier_id: int, key_setting: str, now: datetime, complete: bool
) -> tuple[int, int]:
    """Upsert staged rows that differ from the stored ones; with ``complete``, mark the
    supplier's items absent from the feed unavailable. Returns (changed, missing)."""
    product_id = product_match(key_setting)
    stored = offers.alias("stored")
    joined = incoming.outerjoin(
        stored, and_(stored.c.supplier_id == supplier_id, stored.c.key == incoming.c.key)
    )
    differs = [stored.c[f].is_distinct_from(incoming.c[f]) for f in COMPARED]
    differs.append(stored.c.product_id.is_distinct_from(product_id))
    source = (
        select(
            literal(supplier_id).label("supplier_id"),
            incoming.c.key,
            product_id.label("product_id"),
            *(incoming.c[f] for f in COMPARED),
            literal(now, offers.c.seen_at.type).label("seen_at"),
            literal(now, offers.c.updated_at.type).label("updated_at"),
        )
        .select_from(joined)
        .where(or_(stored.c.id.is_(None), *differs))
    )
    columns = [c.name for c in source.selected_columns]
    changed = _upsert_from(conn, source, columns)
    missing = _mark_missing(conn, supplier_id, now) if complete else 0
    return changed, missing


def _upsert_from(conn: Connection, source: Any, columns: list[str]) -> int:
    insert: Any = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[conn.dialect.name]
    stmt = insert(offers).from_select(columns, source)
    updates = [c for c in columns if c not in ("supplier_id", "key")]
    stmt = stmt.on_conflict_do_update(
        index_elements=["supplier_id", "key"], set_={c: stmt.excluded[c] for c in updates}
    )
    # preserve_rowcount: SQLAlchemy keeps the driver's count only for UPDATE/DELETE otherwise.
    return int(conn.execute(stmt, execution_options={"preserve_rowcount": True}).rowcount or 0)


def _mark_missing(conn: Connection, supplier_id: int, now: datetime) -> int:
    in_feed = exists().where(incoming.c.key == offers.c.key)
    stmt = (
        update(offers)
        .where(offers.c.supplier_id == supplier_id, offers.c.available, ~in_feed)
        .values(available=false(), updated_at=now)
    )
    return int(conn.execute(stmt).rowcount or 0)


def describe_missing(conn: Connection, supplier_id: int, limit: int = 5) -> list[str]:
    """A few keys of known items absent from the staged feed, for the rejection message."""
    in_feed = exists().where(incoming.c.key == offers.c.key)
    stmt = select(offers.c.key).where(
        offers.c.supplier_id == supplier_id, offers.c.available, ~in_feed
    )
    return list(conn.execute(stmt.limit(limit)).scalars())
