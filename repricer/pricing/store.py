"""Write a repricing run and its decisions; read the previous run back for a diff.

Decisions go in with one bulk ``INSERT`` (executemany over plain dicts), never ORM
objects. ``price_changes.inputs`` holds what the decision used (prices, cost, stock,
MAP/min/max, last change and the competitor observations) and the run's summary holds
the rule files' text, so :func:`repricer.pricing.replay.replay_run` can decide again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, cast

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, Table, insert, select

from repricer.db.models import PriceChange, RepricingRun

_runs = cast(Table, RepricingRun.__table__)
_changes = cast(Table, PriceChange.__table__)
INPUT_COLUMNS = [
    "price", "cost", "stock", "map_price", "min_price", "max_price",
    "supplier_available", "last_change_at", "category", "brand", "tags",
]  # fmt: skip
CHANGE_COLUMNS = [
    "product_id", "sku", "currency", "old_price", "new_price", "cost", "floor", "ceiling",
    "reference_price", "reference_competitor", "rule", "strategy", "explanation", "status",
]  # fmt: skip
_BATCH = 20_000


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns with None for missing values and ISO strings for times."""
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].map(lambda t: None if pd.isna(t) else t.isoformat())
    return out.astype(object).where(out.notna(), None)


def input_records(products: pd.DataFrame, observations: pd.DataFrame) -> list[dict[str, Any]]:
    """One JSON-ready inputs dict per product row, in the products' order."""
    obs = _plain(observations)
    grouped: dict[Any, list[dict[str, Any]]] = {}
    for record in cast(list[dict[str, Any]], obs.to_dict("records")):
        grouped.setdefault(record.pop("product_id"), []).append(record)
    records = cast(
        list[dict[str, Any]], _plain(products[["product_id", *INPUT_COLUMNS]]).to_dict("records")
    )
    for record in records:
        record["observations"] = grouped.get(record.pop("product_id"), [])
    return records


@dataclass(frozen=True)
class RunRecord:
    """What a run row holds besides its decisions."""

    status: str
    started_at: datetime
    finished_at: datetime
    rules_dir: str
    rules_hash: str
    breaker: str | None
    summary: dict[str, Any]


@dataclass(frozen=True)
class StoreHooks:
    """Work done in the transaction that stores a run: ``first`` before anything is
    written (a lock), ``last`` after the run and all its changes are (the review of an
    applied run). See :func:`repricer.flow.apply_repricing`."""

    first: Callable[[Connection], None]
    last: Callable[[Connection, int], None]


def store_run(
    engine: Engine,
    run: RunRecord,
    decisions: pd.DataFrame,
    products: pd.DataFrame,
    observations: pd.DataFrame,
    hooks: StoreHooks | None = None,
) -> int:
    """Insert the run and its price_changes (with their inputs) in one transaction, in
    batches so that memory stays bounded whatever the catalog size; returns the run id.
    ``decisions`` rows are in ``products``' order."""
    with engine.begin() as conn:
        if hooks is not None:
            hooks.first(conn)
        run_id = int(conn.execute(insert(_runs).values(**asdict(run))).inserted_primary_key[0])  # type: ignore[index]
        batches = _observation_batches(products, observations)
        for start in range(0, len(decisions), _BATCH):
            stop = start + _BATCH
            used = input_records(products.iloc[start:stop], batches(start, stop))
            rows = _change_rows(decisions.iloc[start:stop], used, run_id, run.finished_at)
            conn.execute(insert(_changes), rows)
        if hooks is not None:
            hooks.last(conn, run_id)
    return run_id


def _observation_batches(products: pd.DataFrame, observations: pd.DataFrame) -> Any:
    """``(start, stop) -> the observations of products[start:stop]``: a slice when both
    frames are sorted by product id (as loaded), else a lookup."""
    ids = products["product_id"].to_numpy(dtype=np.int64)
    obs = observations.sort_values("product_id", kind="stable").reset_index(drop=True)
    obs_ids = obs["product_id"].to_numpy(dtype=np.int64)
    ordered = len(ids) == 0 or bool(np.all(ids[1:] > ids[:-1]))

    def batch(start: int, stop: int) -> pd.DataFrame:
        part = ids[start:stop]
        if not ordered:
            return obs[obs["product_id"].isin(part)]
        low = np.searchsorted(obs_ids, part[0], "left")
        high = np.searchsorted(obs_ids, part[-1], "right")
        return obs.iloc[low:high]

    return batch


def _change_rows(
    decisions: pd.DataFrame, inputs: list[dict[str, Any]], run_id: int, at: datetime
) -> list[dict[str, Any]]:
    rows = cast(list[dict[str, Any]], _plain(decisions[CHANGE_COLUMNS]).to_dict("records"))
    guards = decisions["guards"].str.split(",").to_list()
    flags = decisions["flags"].str.split(",").to_list()
    for row, guard, flag, used in zip(rows, guards, flags, inputs, strict=True):
        row.update(run_id=run_id, decided_at=at, inputs=used)
        row["guards"] = [g for g in guard if g]
        row["flags"] = [f for f in flag if f]
    return rows


def previous_decisions(conn: Connection, run_id: int) -> tuple[int | None, pd.DataFrame]:
    """The run before ``run_id`` and its (product_id, new_price, status) rows."""
    previous = conn.execute(
        select(_runs.c.id).where(_runs.c.id < run_id).order_by(_runs.c.id.desc()).limit(1)
    ).scalar()
    columns = ["product_id", "new_price", "status"]
    if previous is None:
        return None, pd.DataFrame(columns=columns)
    rows = conn.execute(
        select(_changes.c.product_id, _changes.c.new_price, _changes.c.status).where(
            _changes.c.run_id == previous
        )
    ).all()
    frame = pd.DataFrame.from_records(list(map(tuple, rows)), columns=columns).astype(
        {"new_price": "Int64"}
    )
    return int(previous), frame
