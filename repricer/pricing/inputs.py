"""Load what a repricing run decides from: products with costs, and usable observations.

Everything is read as columns (:mod:`repricer.db.columnar`), never as ORM rows.
Products come with their effective supplier cost and availability
(:func:`repricer.feeds.effective.effective_costs`; a cost in another currency than the
pricing currency counts as unknown) and the time of their last approved or pushed price
change (for ``cooldown``). Observations are the latest usable one per listing: status
ok with a positive price, not after ``now`` and not older than ``max_age``, in the pricing
currency (or none given), from an active, accepted listing with confidence >=
``crawl.min_confidence``, not our own store (``is_self``), not an anomaly or mismatch,
and not from a (crawl run, competitor) marked unhealthy. Each rule then applies its own
``stale_after`` and competitor subset in the engine.
"""

from __future__ import annotations

import ctypes
import functools
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import Connection, Engine, Table, case, func, not_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from repricer.config import Settings
from repricer.db.columnar import read_columns, read_frame, sqlite_seen_by_others
from repricer.db.models import (
    Competitor,
    CrawlSiteStats,
    Listing,
    Observation,
    PriceChange,
    Product,
)
from repricer.db.trusted import (
    healthy_site,
    site_health_join,
    trusted_competitor,
    trusted_observation,
)
from repricer.feeds.effective import effective_costs
from repricer.states import PUSHED

PRODUCT_COLUMNS = [
    "product_id", "sku", "category", "brand", "tags", "currency", "price", "stock",
    "map_price", "min_price", "max_price",
]  # fmt: skip
OBSERVATION_COLUMNS = ["product_id", "competitor", "price", "in_stock", "observed_at"]
_products = cast(Table, Product.__table__)
_obs = cast(Table, Observation.__table__)
_listings = cast(Table, Listing.__table__)
_competitors = cast(Table, Competitor.__table__)
_stats = cast(Table, CrawlSiteStats.__table__)
_changes = cast(Table, PriceChange.__table__)


@dataclass(frozen=True)
class Inputs:
    """The frames :func:`repricer.pricing.core.decide` takes."""

    products: pd.DataFrame
    observations: pd.DataFrame


def load_inputs(
    conn: Connection,
    settings: Settings,
    *,
    now: datetime,
    max_age: timedelta,
    skus: list[str] | None = None,
) -> Inputs:
    """Products (all, or those with the given SKUs) and their usable observations.

    The observations are read on a second connection in a thread while ``conn`` reads
    the products: the database works on one query while Python decodes the other (the
    drivers let go of the GIL while they wait). The two reads never were one snapshot
    (each statement sees the data as it starts); an in-memory SQLite database, which
    another connection would not see, is read on ``conn`` alone."""
    _tune(conn)
    if not _shareable(conn):
        products = load_products(conn, settings.pricing.currency, skus)
        observations = load_observations(conn, settings, now=now, max_age=max_age)
    else:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(_observations_apart, conn.engine, settings, now, max_age)
            products = load_products(conn, settings.pricing.currency, skus)
            observations = pending.result()
    observations = observations[observations["product_id"].isin(products["product_id"])]
    inputs = Inputs(products, observations.reset_index(drop=True))
    _give_back_freed_memory()
    return inputs


def _give_back_freed_memory() -> None:
    """Hand the heap pages that the reads' temporaries freed back to the system: glibc
    keeps them, and a process that runs every 15 minutes would carry them from run to
    run (about 85 MiB at a million products). Nothing where there is no malloc_trim."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Any:
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):  # not glibc
        return None


def _tune(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        # compiling the scans of millions of rows costs more than it saves
        conn.exec_driver_sql("SET LOCAL jit = off")
        # the products' reads group and join a million offers: in memory, not in
        # batches spilled to disk
        conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")


def _shareable(conn: Connection) -> bool:
    """Whether another connection sees what ``conn`` sees (a fresh PostgreSQL
    connection does; see :func:`repricer.db.columnar.sqlite_seen_by_others`)."""
    return conn.dialect.name != "sqlite" or sqlite_seen_by_others(conn)


def _observations_apart(
    engine: Engine, settings: Settings, now: datetime, max_age: timedelta
) -> pd.DataFrame:
    with engine.connect() as conn:
        _tune(conn)
        return load_observations(conn, settings, now=now, max_age=max_age)


def load_products(conn: Connection, currency: str, skus: list[str] | None = None) -> pd.DataFrame:
    """Product rows with cost, supplier_available and last_change_at columns."""
    stmt = select(
        _products.c.id.label("product_id"), *(_products.c[c] for c in PRODUCT_COLUMNS[1:])
    )
    if skus:
        stmt = stmt.where(_products.c.sku.in_(skus))
    dtypes = {
        "product_id": "int64", "sku": "object", "category": "object", "brand": "object",
        "tags": "object", "currency": "object", "price": "Int64", "stock": "Int64",
        "map_price": "Int64", "min_price": "Int64", "max_price": "Int64",
    }  # fmt: skip
    # on SQLite in blocks of ids, read by two connections at once (see read_columns)
    by = _products.c.id if conn.dialect.name == "sqlite" else None
    products = read_frame(conn, stmt.order_by(_products.c.id), dtypes, block_by=by)
    if not products["product_id"].is_monotonic_increasing:  # not guaranteed by aggregates
        products = products.sort_values("product_id", ignore_index=True)
    products["tags"] = _tag_lists(products["tags"])
    costs = effective_costs(conn)
    costs = costs[costs["currency"] == currency]
    costs = costs.rename(columns={"available": "supplier_available"})[
        ["product_id", "cost", "supplier_available"]
    ]
    products = products.merge(costs, on="product_id", how="left")
    products["cost"] = products["cost"].astype("Int64")
    products["supplier_available"] = products["supplier_available"].astype("boolean")
    return products.merge(_last_changes(conn), on="product_id", how="left")


def _tag_lists(texts: pd.Series) -> npt.NDArray[Any]:
    """Stored tag lists (JSON text) -> lists; each distinct text is parsed once."""
    codes, uniques = pd.factorize(texts)
    parsed = [json.loads(u) for u in uniques]
    table = np.empty(len(parsed) + 1, dtype=object)
    table[: len(parsed)] = parsed
    table[-1] = None
    return table[codes]


def _last_changes(conn: Connection) -> pd.DataFrame:
    stmt = (
        select(
            _changes.c.product_id,
            func.max(_changes.c.decided_at).label("last_change"),
        )
        .where(
            _changes.c.status.in_(("approved", "pushing", *PUSHED)),
            _changes.c.new_price != _changes.c.old_price,
        )
        .group_by(_changes.c.product_id)
    )
    frame = read_frame(conn, stmt, {"product_id": "int64", "last_change": "epoch_us"})
    at = pd.to_datetime(frame.pop("last_change").to_numpy(), unit="us", utc=True)
    frame["last_change_at"] = at
    return frame


def load_observations(
    conn: Connection, settings: Settings, *, now: datetime, max_age: timedelta
) -> pd.DataFrame:
    """The latest usable observation per listing (see the module docstring). The
    usable rows not older than ``max_age`` are found by one joined query on SQLite and
    by plain reads joined in numpy on PostgreSQL; :func:`latest_per_listing` picks the
    newest per listing over the columns (a window function costs SQLite more than the
    whole scan)."""
    if conn.dialect.name == "postgresql":
        rows = _usable_apart(conn, settings, now, max_age)
    else:
        rows = _usable_joined(conn, settings, now, max_age)
    newest = latest_per_listing(rows.pop("listing_id"), rows["observed_us"], rows["id"])
    for name in list(rows):  # one column at a time: the unfiltered ones go as we go
        rows[name] = np.asarray(rows[name])[newest]
    names = {
        row.id: row.name for row in conn.execute(select(_competitors.c.id, _competitors.c.name))
    }
    competitor = _names(rows.pop("competitor_id"), names)
    # the rows come in no set order: observations of one product and competitor (two
    # listings) in the order they were stored
    order = np.lexsort((rows.pop("id"), competitor.codes, rows["product_id"]))
    return pd.DataFrame(
        {
            "product_id": rows.pop("product_id")[order].astype(np.int64),
            "competitor": competitor[order],
            "price": rows.pop("price")[order],
            "in_stock": rows.pop("in_stock")[order],
            "observed_at": pd.to_datetime(rows.pop("observed_us")[order], unit="us", utc=True),
        }
    )


# ids as int32 (half the memory of millions of rows; ids are 32-bit in the schema)
_ROW_DTYPES = {"listing_id": "int32", "id": "int32", "price": "int64", "in_stock": "bool",
               "observed_us": "epoch_us"}  # fmt: skip


def _observed(
    o: Any, settings: Settings, now: datetime, max_age: timedelta
) -> tuple[list[Any], list[Any]]:
    """The columns of a usable observation and the conditions on its own row."""
    columns = [
        o.c.listing_id,
        o.c.id,
        o.c.price,
        case((o.c.availability == "out_of_stock", 0), else_=1).label("in_stock"),
        o.c.observed_at.label("observed_us"),
    ]
    conditions = [
        *trusted_observation(o.c),
        o.c.observed_at <= now,
        o.c.observed_at >= now - max_age,
        or_(o.c.currency.is_(None), o.c.currency == settings.pricing.currency),
    ]
    return columns, conditions


def _usable_listing(settings: Settings) -> tuple[ColumnElement[bool], ...]:
    lst = _listings
    return (
        lst.c.active.is_(True),
        lst.c.status == "accepted",
        lst.c.confidence >= settings.crawl.min_confidence,
    )


def _usable_joined(
    conn: Connection, settings: Settings, now: datetime, max_age: timedelta
) -> dict[str, Any]:
    """Usable observations as one joined query (SQLite: its joins by index cost less
    than reading the listings apart)."""
    o, lst, comp, stats = _obs, _listings, _competitors, _stats
    columns, conditions = _observed(o, settings, now, max_age)
    stmt = (
        select(*columns, lst.c.product_id, lst.c.competitor_id)
        .join(lst, lst.c.id == o.c.listing_id)
        .join(comp, comp.c.id == lst.c.competitor_id)
        .outerjoin(stats, site_health_join(o.c, lst.c, stats.c))
        .where(
            *conditions,
            trusted_competitor(comp.c),
            healthy_site(stats.c),
            *_usable_listing(settings),
        )
    )
    dtypes = {**_ROW_DTYPES, "product_id": "int32", "competitor_id": "int32"}
    return read_columns(conn, stmt, dtypes, block_by=o.c.id)


def _usable_apart(
    conn: Connection, settings: Settings, now: datetime, max_age: timedelta
) -> dict[str, Any]:
    """Usable observations from plain reads joined in numpy (PostgreSQL: a join of
    millions of observations to millions of listings spills its hash to disk and costs
    the server several times the two reads): the observations by their own
    conditions, the usable listings, the trusted competitors and the unhealthy (crawl
    run, competitor) pairs, one after another (so no two reads' raw results are held
    at once)."""
    o, lst, comp, stats = _obs, _listings, _competitors, _stats
    columns, conditions = _observed(o, settings, now, max_age)
    run = func.coalesce(o.c.crawl_run_id, 0).label("crawl_run_id")  # ids start at 1
    rows = read_columns(
        conn,
        select(*columns, run).where(*conditions),
        {**_ROW_DTYPES, "crawl_run_id": "int32"},
    )
    usable = read_columns(
        conn,
        select(lst.c.id, lst.c.product_id, lst.c.competitor_id).where(*_usable_listing(settings)),
        {"id": "int32", "product_id": "int32", "competitor_id": "int32"},
    )
    trusted = read_columns(
        conn, select(comp.c.id).where(trusted_competitor(comp.c)), {"id": "int64"}
    )["id"]
    unhealthy = read_columns(
        conn,
        select(stats.c.crawl_run_id, stats.c.competitor_id).where(not_(healthy_site(stats.c))),
        {"crawl_run_id": "int64", "competitor_id": "int64"},
    )
    return _joined(rows, usable, trusted, unhealthy)


def _joined(
    rows: dict[str, Any],
    listings: dict[str, Any],
    trusted: npt.NDArray[Any],
    unhealthy: dict[str, Any],
) -> dict[str, Any]:
    """The observation ``rows`` (filtered in place) of a usable listing of a trusted
    competitor, not from an unhealthy (crawl run, competitor), with their product and
    competitor ids."""
    at = _positions(listings["id"], rows["listing_id"])
    keep = at >= 0
    competitor = np.where(keep, listings["competitor_id"][np.maximum(at, 0)], -1)
    keep &= np.isin(competitor, trusted)
    keep &= ~np.isin(
        _pairs(rows.pop("crawl_run_id"), competitor),
        _pairs(unhealthy["crawl_run_id"], unhealthy["competitor_id"]),
    )
    for name in list(rows):  # one column at a time: the unfiltered ones go as we go
        rows[name] = rows[name][keep]
    rows["product_id"] = listings["product_id"][at[keep]]
    rows["competitor_id"] = competitor[keep]
    return rows


def _positions(keys: npt.NDArray[Any], wanted: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    """Where each ``wanted`` value is among the distinct ``keys``, -1 where it is not:
    an array indexed by key when keys are small non-negative ids (listing ids are),
    else a binary search over the sorted keys."""
    if len(keys) == 0 or len(wanted) == 0:
        return np.full(len(wanted), -1, dtype=np.int64)
    high = int(max(keys.max(), wanted.max()))
    if int(min(keys.min(), wanted.min())) >= 0 and high < 4 * len(keys) + 1024:
        table = np.full(high + 1, -1, dtype=np.int64)
        table[keys] = np.arange(len(keys))
        found: npt.NDArray[np.int64] = table[wanted]
        return found
    order = np.argsort(keys, kind="stable")
    spot = np.minimum(np.searchsorted(keys, wanted, sorter=order), len(keys) - 1)
    return np.where(keys[order[spot]] == wanted, order[spot], -1)


def _pairs(runs: npt.NDArray[Any], competitors: npt.NDArray[Any]) -> Any:
    """(crawl run, competitor) as one comparable value each."""
    return runs.astype(np.int64) << 32 | (competitors.astype(np.int64) & 0xFFFFFFFF)


def latest_per_listing(
    listing: npt.NDArray[Any], at: npt.NDArray[np.int64], ident: npt.NDArray[Any]
) -> npt.NDArray[np.bool_]:
    """Which rows are the newest of their listing: the latest ``at``, and of rows at the
    same moment the highest ``ident``. Linear time (no sort): the per-listing maxima
    are scattered into arrays indexed by listing."""
    if len(listing) == 0:
        return np.zeros(0, dtype=bool)
    slots, inverse = _slots(listing)
    # each maxima array has its values' dtype: ufunc.at is slow when it must cast
    latest = np.full(slots, np.iinfo(at.dtype).min, dtype=at.dtype)
    np.maximum.at(latest, inverse, at)
    on_top = at == latest[inverse]
    highest = np.full(slots, np.iinfo(ident.dtype).min, dtype=ident.dtype)
    np.maximum.at(highest, inverse[on_top], ident[on_top])
    chosen: npt.NDArray[np.bool_] = on_top & (ident == highest[inverse])
    return chosen


def _slots(keys: npt.NDArray[Any]) -> tuple[int, npt.NDArray[Any]]:
    """A dense index per key: the key itself when keys are small non-negative ids (as
    listing ids are), else its rank among the distinct keys."""
    low, high = int(keys.min()), int(keys.max())
    if low >= 0 and high < 4 * len(keys) + 1024:
        return high + 1, keys
    uniques, inverse = np.unique(keys, return_inverse=True)
    return len(uniques), inverse.astype(np.int64)


def _names(ids: npt.NDArray[Any], names: dict[int, str]) -> Any:
    """Competitor ids -> a categorical of their names (categories sorted by name)."""
    ordered = sorted(names, key=lambda i: names[i])
    lookup = np.full(max(names, default=0) + 1, -1, dtype=np.int64)
    lookup[ordered] = np.arange(len(ordered))
    categories = pd.Index([names[i] for i in ordered], dtype=object)
    return pd.Categorical.from_codes(lookup[ids], categories)
