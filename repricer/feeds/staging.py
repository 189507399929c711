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
    false,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from repricer.db.models import Product, SupplierOffer
from repricer.feeds.fingerprints import Skipped
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
# Ids of stored offers: available ones absent from the feed (found by :func:`analyse`),
# and offers skipped as unchanged that have no product yet.
absent = Table(
    "feed_absent", _meta, Column("id", Integer, primary_key=True), prefixes=["TEMPORARY"]
)
waiting = Table(
    "feed_waiting", _meta, Column("id", Integer, primary_key=True), prefixes=["TEMPORARY"]
)
_TEMPORARY = (incoming, absent, waiting)
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
    for table in _TEMPORARY:
        table.drop(conn, checkfirst=True)
        table.create(conn)


def clear_staging(conn: Connection) -> None:
    """Empty the staged feed, to read the file again another way."""
    for table in _TEMPORARY:
        conn.execute(table.delete())


def drop_staging(conn: Connection) -> None:
    """Drop the temporary tables and give the caches back (the connection is pooled)."""
    for table in _TEMPORARY:
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


def staged_any(conn: Connection) -> bool:
    """Whether any offer is staged. With none (nothing new or changed), statements that
    join the staged offers are skipped: SQLite would scan every stored offer for them."""
    return conn.execute(select(incoming.c.key).limit(1)).first() is not None


def _unindexed(column: Any) -> Any:
    # ``+ 0`` keeps SQLite (no statistics on the main tables) from choosing the
    # supplier index over a more selective one (product_id IS NULL: a handful of rows).
    return column + 0


def product_match(key_setting: str, key: Any = None) -> Any:
    """Scalar subquery: our product id for ``key`` (default ``feed_incoming.key``) under
    the supplier's key setting."""
    column = products.c.gtin if key_setting == "barcode" else products.c.sku
    key = incoming.c.key if key is None else key
    return select(func.min(products.c.id)).where(column == key).scalar_subquery()


def _stage_ids(conn: Connection, table: Table, ids: Sequence[int]) -> None:
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table.name} (id) VALUES ({mark})"
    for start in range(0, len(ids), 50_000):
        conn.exec_driver_sql(sql, [(int(i),) for i in ids[start : start + 50_000]])


def stored_value(supplier_id: int, column: Any) -> Any:
    """Scalar subquery: ``column`` of the supplier's stored offer with the staged key.

    Statements over the staged offers read stored values this way rather than by a
    join: with no statistics, SQLite would drive a join from every stored offer of the
    supplier (its index looks selective) instead of from the few staged ones."""
    return (
        select(column)
        .where(offers.c.supplier_id == supplier_id, offers.c.key == incoming.c.key)
        .scalar_subquery()
    )


def restaged_prints(conn: Connection, supplier_id: int) -> list[int]:
    """Stored fingerprints of the staged keys: one the feed also repeated unchanged
    means a key written twice in the feed (the caller then reads the feed whole)."""
    if not staged_any(conn):
        return []
    prints = (
        select(stored_value(supplier_id, offers.c.feed_fp).label("fp"))
        .select_from(incoming)
        .subquery()
    )
    return list(conn.execute(select(prints.c.fp).where(prints.c.fp.is_not(None))).scalars())


def analyse(
    conn: Connection,
    supplier_id: int,
    key_setting: str,
    max_cost_change: Decimal,
    skipped: Skipped,
) -> FeedDiff:
    """Count what the staged feed, with the offers ``skipped`` as unchanged, changes,
    for the guards; writes nothing but the temporary tables."""
    staged, duplicates = conn.execute(
        select(func.count(), func.coalesce(func.sum(incoming.c.dup), 0))
    ).one()
    dup_keys = conn.execute(select(incoming.c.key).where(incoming.c.dup > 0).limit(10)).scalars()
    _analyse_staged(conn)
    missing = _find_absent(conn, supplier_id, skipped.absent.tolist())
    compared = big = unmapped = 0
    if staged:
        ratio_bp = int(max_cost_change * 10000)
        costs = select(
            incoming.c.cost.label("new"), stored_value(supplier_id, offers.c.cost).label("old")
        ).subquery()
        moved = func.abs(costs.c.new - costs.c.old) * 10000 > costs.c.old * ratio_bp
        compared, big = conn.execute(
            select(func.count(), func.count().filter(moved)).where(costs.c.old > 0)
        ).one()
        unmapped = conn.execute(
            select(func.count()).select_from(incoming).where(product_match(key_setting).is_(None))
        ).scalar_one()
    if len(skipped.waiting):
        _stage_ids(conn, waiting, skipped.waiting.tolist())
        unmapped += conn.execute(
            select(func.count())
            .select_from(waiting.join(offers, offers.c.id == waiting.c.id))
            .where(product_match(key_setting, offers.c.key).is_(None))
        ).scalar_one()
    return FeedDiff(
        staged + skipped.matched,
        int(duplicates),
        list(dup_keys),
        skipped.known,
        missing,
        compared + skipped.matched,
        big,
        unmapped,
    )


def _find_absent(conn: Connection, supplier_id: int, candidates: Sequence[int]) -> int:
    """Of the ``candidates`` (available stored offers not skipped as unchanged), keep
    in ``feed_absent`` those whose key is not staged; returns how many."""
    _stage_ids(conn, absent, candidates)
    if candidates and staged_any(conn):
        in_feed = select(stored_value(supplier_id, offers.c.id)).select_from(incoming)
        conn.execute(absent.delete().where(absent.c.id.in_(in_feed)))
    return int(conn.execute(select(func.count()).select_from(absent)).scalar_one())


def _analyse_staged(conn: Connection) -> None:
    """Give SQLite's planner the staged offers' count (a sample), so a join with a few
    changed offers starts from them rather than from every stored offer."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA analysis_limit = 1000")
        conn.exec_driver_sql(f"ANALYZE temp.{incoming.name}")


def apply_changes(
    conn: Connection,
    supplier_id: int,
    key_setting: str,
    now: datetime,
    complete: bool,
    *,
    first: bool = False,
) -> tuple[int, int]:
    """Upsert staged rows that differ from the stored ones (their data, or only their
    fingerprint); give offers skipped as unchanged and still without a product the one
    that now matches; with ``complete``, mark the supplier's items absent from the feed
    (found by :func:`analyse`) unavailable. Returns (changed, missing): rows whose data
    changed, rows marked missing. ``first``: the supplier has no stored offer yet."""
    changed = 0
    if staged_any(conn):
        changed = _upsert_staged(conn, supplier_id, key_setting, now, first)
    changed += _match_waiting(conn, key_setting, now)
    missing = _mark_missing(conn, supplier_id, now) if complete else 0
    return changed, missing


def _upsert_staged(
    conn: Connection, supplier_id: int, key_setting: str, now: datetime, first: bool
) -> int:
    """Write staged offers that are new or differ; returns how many differ in data
    (``first``: all of them, nothing is stored yet)."""
    product_id = product_match(key_setting)
    stored = offers.alias("stored")
    joined = incoming.outerjoin(
        stored, and_(stored.c.supplier_id == supplier_id, stored.c.key == incoming.c.key)
    )
    differs = [stored.c[f].is_distinct_from(incoming.c[f]) for f in COMPARED]
    differs.append(stored.c.product_id.is_distinct_from(product_id))
    new_or_different = or_(stored.c.id.is_(None), *differs)
    counted = select(func.count()).select_from(incoming if first else joined)
    changed = conn.execute(counted if first else counted.where(new_or_different)).scalar_one()
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
    return int(changed)


def _match_waiting(conn: Connection, key_setting: str, now: datetime) -> int:
    """Give offers skipped as unchanged, still without a product, the one that now
    matches (a product imported since)."""
    product_id = product_match(key_setting, offers.c.key)
    stmt = (
        update(offers)
        .where(offers.c.id.in_(select(waiting.c.id)), product_id.is_not(None))
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


def _mark_missing(conn: Connection, supplier_id: int, now: datetime) -> int:
    # A missing item's fingerprint goes: if it comes back as it was, it is read again.
    stmt = (
        update(offers)
        .where(
            _unindexed(offers.c.supplier_id) == supplier_id,
            offers.c.id.in_(select(absent.c.id)),
        )
        .values(available=false(), updated_at=now, feed_fp=None)
    )
    return int(conn.execute(stmt).rowcount or 0)


def describe_missing(conn: Connection, supplier_id: int, limit: int = 5) -> list[str]:
    """A few keys of known items absent from the staged feed (found by :func:`analyse`),
    for the rejection message."""
    stmt = select(offers.c.key).where(
        offers.c.supplier_id == supplier_id, offers.c.id.in_(select(absent.c.id))
    )
    return list(conn.execute(stmt.limit(limit)).scalars())
