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
from repricer.feeds.records import RECORD_FIELDS

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
    Column("feed_fp", BigInteger),
    Column("dup", Integer, nullable=False),
    prefixes=["TEMPORARY"],
    sqlite_with_rowid=False,  # one B-tree keyed by key: faster to fill and to probe
)
# Stored fingerprints the feed did not repeat (its changed and absent offers), when
# unchanged offers were skipped: only those rows can be missing from the feed.
stale = Table(
    "feed_stale",
    _meta,
    Column("fp", BigInteger, primary_key=True),
    prefixes=["TEMPORARY"],
    sqlite_with_rowid=False,
)
offers = cast(Table, SupplierOffer.__table__)
products = cast(Table, Product.__table__)
# Fields compared to decide whether a stored offer changed (besides product_id).
COMPARED = [f for f in RECORD_FIELDS if f != "key"]
# Staged per offer: the record, then its fingerprint (None: not to be recorded).
STAGED = [*RECORD_FIELDS, "feed_fp"]


@dataclass(frozen=True)
class FeedDiff:
    """What applying the staged feed would do. ``known`` counts the supplier's items
    now available; ``big_moves`` of ``compared`` costs move more than the threshold.
    Offers skipped as unchanged (``matched``) count as staged and compared."""

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
    for table in (incoming, stale):
        table.drop(conn, checkfirst=True)
        table.create(conn)


def clear_staging(conn: Connection) -> None:
    """Empty the staged feed, to read the file again another way."""
    conn.execute(incoming.delete())
    conn.execute(stale.delete())


def drop_staging(conn: Connection) -> None:
    """Drop the temporary tables and give the caches back (the connection is pooled)."""
    for table in (incoming, stale):
        table.drop(conn, checkfirst=True)
    if conn.dialect.name == "sqlite":
        for pragma in _SQLITE_DEFAULT_PRAGMAS:
            conn.exec_driver_sql(pragma)


def stage_records(conn: Connection, records: Sequence[tuple[Any, ...]]) -> None:
    """Insert one batch of ``(*FeedRecord, fingerprint)`` tuples; a key already staged
    is overwritten (last wins) and counted.

    Tuples go in column order to the driver's ``executemany`` as they are: this is the
    per-row hot path of a sync.
    """
    if records:
        conn.exec_driver_sql(_staging_insert(conn.dialect.paramstyle), records)


def _staging_insert(paramstyle: str | None) -> str:
    mark = "?" if paramstyle == "qmark" else "%s"
    columns = ", ".join(STAGED)
    marks = ", ".join([mark] * len(STAGED))
    updates = ", ".join(f"{f} = excluded.{f}" for f in [*COMPARED, "feed_fp"])
    return (
        f"INSERT INTO {incoming.name} ({columns}, dup) VALUES ({marks}, 0) "
        f"ON CONFLICT (key) DO UPDATE SET {updates}, dup = {incoming.name}.dup + 1"
    )


def product_match(key_setting: str, key: Any = None) -> Any:
    """Scalar subquery: our product id for ``key`` (default ``feed_incoming.key``) under
    the supplier's key setting."""
    column = products.c.gtin if key_setting == "barcode" else products.c.sku
    key = incoming.c.key if key is None else key
    return select(func.min(products.c.id)).where(column == key).scalar_subquery()


def stage_stale(conn: Connection, prints: Sequence[int]) -> None:
    """Record the stored fingerprints the feed did not repeat (see :data:`stale`)."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {stale.name} (fp) VALUES ({mark})"
    for start in range(0, len(prints), 50_000):
        conn.exec_driver_sql(sql, [(int(p),) for p in prints[start : start + 50_000]])


def restaged_prints(conn: Connection, supplier_id: int) -> list[int]:
    """Stored fingerprints of the staged keys: one the feed also repeated unchanged
    means a key written twice in the feed (the caller then reads the feed whole)."""
    stmt = (
        select(offers.c.feed_fp)
        .join(incoming, incoming.c.key == offers.c.key)
        .where(offers.c.supplier_id == supplier_id, offers.c.feed_fp.is_not(None))
    )
    return list(conn.execute(stmt).scalars())


def _in_feed(delta: bool) -> Any:
    """Whether a stored offer is in the staged feed: its key is staged or, when
    unchanged offers were skipped, its fingerprint was repeated (stored, not stale)."""
    staged = exists().where(incoming.c.key == offers.c.key)
    if not delta:
        return staged
    repeated = and_(offers.c.feed_fp.is_not(None), offers.c.feed_fp.not_in(select(stale.c.fp)))
    return or_(staged, repeated)


def analyse(
    conn: Connection,
    supplier_id: int,
    key_setting: str,
    max_cost_change: Decimal,
    *,
    matched: int = 0,
    delta: bool = False,
) -> FeedDiff:
    """Count what the staged feed (and ``matched`` offers skipped as unchanged, when
    ``delta``) changes, for the guards; writes nothing."""
    mine = offers.c.supplier_id == supplier_id
    staged, duplicates = conn.execute(
        select(func.count(), func.coalesce(func.sum(incoming.c.dup), 0))
    ).one()
    dup_keys = conn.execute(select(incoming.c.key).where(incoming.c.dup > 0).limit(10)).scalars()
    known, missing = conn.execute(
        select(func.count(), func.count().filter(~_in_feed(delta))).where(mine, offers.c.available)
    ).one()
    ratio_bp = int(max_cost_change * 10000)
    moved = func.abs(incoming.c.cost - offers.c.cost) * 10000 > offers.c.cost * ratio_bp
    compared, big = conn.execute(
        select(func.count(), func.count().filter(moved))
        .select_from(offers.join(incoming, incoming.c.key == offers.c.key))
        .where(mine, offers.c.cost > 0)
    ).one()
    unmapped = conn.execute(
        select(func.count()).select_from(incoming).where(product_match(key_setting).is_(None))
    ).scalar_one()
    if delta and matched:
        unmapped += _unmapped_repeated(conn, supplier_id, key_setting)
    return FeedDiff(
        staged + matched,
        int(duplicates),
        list(dup_keys),
        known,
        missing,
        compared + matched,
        big,
        unmapped,
    )


def _unmapped_repeated(conn: Connection, supplier_id: int, key_setting: str) -> int:
    """Offers skipped as unchanged that still match none of our products."""
    return int(
        conn.execute(
            select(func.count()).where(
                offers.c.supplier_id == supplier_id,
                offers.c.product_id.is_(None),
                offers.c.feed_fp.is_not(None),
                offers.c.feed_fp.not_in(select(stale.c.fp)),
                product_match(key_setting, offers.c.key).is_(None),
            )
        ).scalar_one()
    )


def apply_changes(
    conn: Connection,
    supplier_id: int,
    key_setting: str,
    now: datetime,
    complete: bool,
    *,
    delta: bool = False,
) -> tuple[int, int]:
    """Upsert staged rows that differ from the stored ones (their data, or only their
    fingerprint); with ``complete``, mark the supplier's items absent from the feed
    unavailable. When unchanged offers were skipped (``delta``), those still without a
    product get one that now matches. Returns (changed, missing): rows whose data
    changed, rows marked missing."""
    product_id = product_match(key_setting)
    stored = offers.alias("stored")
    joined = incoming.outerjoin(
        stored, and_(stored.c.supplier_id == supplier_id, stored.c.key == incoming.c.key)
    )
    differs = [stored.c[f].is_distinct_from(incoming.c[f]) for f in COMPARED]
    differs.append(stored.c.product_id.is_distinct_from(product_id))
    new_or_different = or_(stored.c.id.is_(None), *differs)
    changed = conn.execute(
        select(func.count()).select_from(joined).where(new_or_different)
    ).scalar_one()
    source = (
        select(
            literal(supplier_id).label("supplier_id"),
            incoming.c.key,
            product_id.label("product_id"),
            *(incoming.c[f] for f in [*COMPARED, "feed_fp"]),
            literal(now, offers.c.seen_at.type).label("seen_at"),
            literal(now, offers.c.updated_at.type).label("updated_at"),
        )
        .select_from(joined)
        .where(or_(new_or_different, stored.c.feed_fp.is_distinct_from(incoming.c.feed_fp)))
    )
    _upsert_from(conn, source, [c.name for c in source.selected_columns])
    if delta:
        changed += _match_repeated(conn, supplier_id, key_setting, now)
    missing = _mark_missing(conn, supplier_id, now, delta) if complete else 0
    return int(changed), missing


def _match_repeated(conn: Connection, supplier_id: int, key_setting: str, now: datetime) -> int:
    """Give offers skipped as unchanged, still without a product, the one that now
    matches (a product imported since)."""
    product_id = product_match(key_setting, offers.c.key)
    stmt = (
        update(offers)
        .where(
            offers.c.supplier_id == supplier_id,
            offers.c.product_id.is_(None),
            ~exists().where(incoming.c.key == offers.c.key),
            product_id.is_not(None),
        )
        .values(product_id=product_id, updated_at=now)
    )
    return int(conn.execute(stmt).rowcount or 0)


def _upsert_from(conn: Connection, source: Any, columns: list[str]) -> int:
    insert: Any = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[conn.dialect.name]
    stmt = insert(offers).from_select(columns, source)
    updates = [c for c in columns if c not in ("supplier_id", "key")]
    stmt = stmt.on_conflict_do_update(
        index_elements=["supplier_id", "key"], set_={c: stmt.excluded[c] for c in updates}
    )
    # preserve_rowcount: SQLAlchemy keeps the driver's count only for UPDATE/DELETE otherwise.
    return int(conn.execute(stmt, execution_options={"preserve_rowcount": True}).rowcount or 0)


def _mark_missing(conn: Connection, supplier_id: int, now: datetime, delta: bool) -> int:
    # A missing item's fingerprint goes: if it comes back as it was, it is read again.
    stmt = (
        update(offers)
        .where(offers.c.supplier_id == supplier_id, offers.c.available, ~_in_feed(delta))
        .values(available=false(), updated_at=now, feed_fp=None)
    )
    return int(conn.execute(stmt).rowcount or 0)


def describe_missing(
    conn: Connection, supplier_id: int, limit: int = 5, *, delta: bool = False
) -> list[str]:
    """A few keys of known items absent from the staged feed, for the rejection message."""
    stmt = select(offers.c.key).where(
        offers.c.supplier_id == supplier_id, offers.c.available, ~_in_feed(delta)
    )
    return list(conn.execute(stmt.limit(limit)).scalars())
