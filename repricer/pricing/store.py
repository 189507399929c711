"""Write a repricing run and what changed in it; read the previous run back for a diff.

A run stores one ``price_changes`` row only for the products that need one: a price
change (proposed or needing approval) or a product skipped for a reason. Unchanged
products are counted in the run's summary and nothing more. The stored rows' inputs go
into one compact blob (:mod:`repricer.pricing.run_inputs`) and the run's summary holds
the rule files' text, so :func:`repricer.pricing.replay.replay_run` can decide again;
the rows carry no explanation text, which is rendered from the replayed decision for
the rows shown (:mod:`repricer.pricing.stored_explanations`).

Everything is written on the caller's connection, inside its transaction, so a caller
can store a run together with other writes (approving it, expiring older changes).
Rows go in from the decision columns, with ``COPY`` on PostgreSQL and one
``executemany`` on SQLite (:func:`repricer.db.bulk_write.write_columns`).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, cast

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table, insert, select

from repricer.db.bulk_write import write_columns
from repricer.db.columnar import read_frame
from repricer.db.models import PriceChange, RepricingRun
from repricer.pricing.decisions import Decisions, decision_frame
from repricer.pricing.inputs import Inputs
from repricer.pricing.run_inputs import pack_kept_inputs, save_run_inputs

_runs = cast(Table, RepricingRun.__table__)
_changes = cast(Table, PriceChange.__table__)
CHANGE_COLUMNS = [
    "product_id", "sku", "currency", "old_price", "new_price", "cost", "floor", "ceiling",
    "reference_price", "reference_competitor", "rule", "strategy", "explanation", "status",
]  # fmt: skip


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
    written (a lock), ``review`` on the changes about to be written (given the run's
    status; returns them with the statuses, ``approved_by`` and ``approved_at`` to
    write), ``last`` after the run and all its changes are (superseding earlier
    changes). See :func:`repricer.flow.apply_repricing`."""

    first: Callable[[Connection], None]
    review: Callable[[pd.DataFrame, str], pd.DataFrame]
    last: Callable[[Connection, int], None]


@dataclass(frozen=True)
class StoredRun:
    """A stored run: its id, the stored decisions (``DECISION_COLUMNS``, explanations
    empty) and the size of its compact inputs in bytes."""

    run_id: int
    changes: pd.DataFrame
    inputs_bytes: int


def store_run(
    conn: Connection,
    run: RunRecord,
    decisions: Decisions,
    inputs: Inputs,
    review: Callable[[pd.DataFrame, str], pd.DataFrame] | None = None,
) -> StoredRun:
    """Insert the run, its price_changes worth storing (as ``review`` leaves them, when
    given) and their inputs. No text is rendered: explanations are rendered for the
    rows someone looks at. The returned changes carry the engine's statuses."""
    run_id = int(conn.execute(insert(_runs).values(**asdict(run))).inserted_primary_key[0])  # type: ignore[index]
    kept = decisions.take(np.flatnonzero(decisions.worth_storing()))
    with ThreadPoolExecutor(max_workers=1) as pool:  # packed while the database inserts
        packed = pool.submit(
            pack_kept_inputs, inputs.products, inputs.observations, kept.product_id
        )
        changes = decision_frame(kept, explain=False)
        written = changes if review is None else review(changes, run.status)
        write_columns(conn, _changes, _change_columns(written, run_id, run.finished_at))
        data = packed.result()
    size = save_run_inputs(conn, run_id, data)
    return StoredRun(run_id, changes, size)


def _names(joined: pd.Series) -> list[list[str]]:
    """Comma-joined names -> lists; each distinct combination is split once."""
    codes, uniques = pd.factorize(joined)
    lists = [[name for name in text.split(",") if name] for text in uniques]
    return [lists[code] for code in codes]


def _change_columns(changes: pd.DataFrame, run_id: int, at: datetime) -> dict[str, Any]:
    """The columns to write; the explanation stays empty (rendered when shown: see
    :mod:`repricer.pricing.stored_explanations`)."""
    n = len(changes)
    columns: dict[str, Any] = {name: changes[name] for name in CHANGE_COLUMNS}
    columns["guards"], columns["flags"] = _names(changes["guards"]), _names(changes["flags"])
    empty: dict[str, Any] = {}
    columns |= {"run_id": np.full(n, run_id, dtype=np.int64), "decided_at": [at] * n}
    columns["inputs"] = [empty] * n
    for name in ("approved_by", "approved_at"):  # set by a review before writing
        if name in changes:
            columns[name] = changes[name]
    return columns


@dataclass(frozen=True)
class PreviousRun:
    """The run before another: its id, its stored (product_id, new_price, status) rows,
    and which products it decided: ``skus`` None for the whole catalog, else the SKUs
    it was limited to (for a run stored before runs kept only changes: the stored
    rows' SKUs, as it stored every product it decided)."""

    run_id: int | None
    rows: pd.DataFrame
    skus: list[str] | None


def previous_decisions(conn: Connection, run_id: int) -> PreviousRun:
    """The run before ``run_id``, as :class:`PreviousRun`."""
    previous = conn.execute(
        select(_runs.c.id, _runs.c.summary)
        .where(_runs.c.id < run_id)
        .order_by(_runs.c.id.desc())
        .limit(1)
    ).first()
    columns = ["product_id", "new_price", "status"]
    if previous is None:
        return PreviousRun(None, pd.DataFrame(columns=columns), None)
    stmt = select(_changes.c.sku, *(_changes.c[c] for c in columns)).where(
        _changes.c.run_id == previous.id
    )
    dtypes = {"sku": "object", "product_id": "int64", "new_price": "Int64", "status": "object"}
    frame = read_frame(conn, stmt, dtypes)
    summary = previous.summary or {}
    skus = summary["skus"] if "skus" in summary else list(frame["sku"])
    return PreviousRun(int(previous.id), frame[columns], skus)
