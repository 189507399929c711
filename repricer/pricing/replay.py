"""Replay a stored repricing run: decide again from exactly what the run used.

A run stores the rule files' text and its ``now`` in ``repricing_runs.summary`` and the
inputs of every product it stored a decision for (prices, cost, stock, MAP/min/max, last
change, observations) in one compact blob (:mod:`repricer.pricing.run_inputs`; runs
stored before that kept them per row in ``price_changes.inputs``). :func:`replay_run`
rebuilds the engine's input frames and runs :func:`repricer.pricing.core.decide`, so
each stored decision can be checked or explained again after rules, costs or
observations have moved on. The circuit breaker is a property of the whole run and is
not replayed.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, Table, select

from repricer.db.models import PriceChange, RepricingRun
from repricer.exceptions import NotFoundError, PricingError
from repricer.pricing.core import evaluate
from repricer.pricing.decisions import Decisions, decision_frame
from repricer.pricing.inputs import OBSERVATION_COLUMNS
from repricer.pricing.rules import Rule, parse_rules
from repricer.pricing.run_inputs import load_run_inputs

_runs = cast(Table, RepricingRun.__table__)
_changes = cast(Table, PriceChange.__table__)


def replay_run(engine: Engine, run_id: int) -> pd.DataFrame:
    """The decisions run ``run_id`` would make again, for the products it stored, from
    its stored inputs and rules.

    Raises ``NotFoundError`` for an unknown run and ``PricingError`` for a run stored
    without its rules.
    """
    with engine.connect() as conn:
        return decision_frame(replay_decisions(conn, run_id))


def replay_decisions(
    conn: Connection, run_id: int, product_ids: Collection[int] | None = None
) -> Decisions:
    """:func:`replay_run`'s decisions as columns, for all the products the run stored or
    only ``product_ids`` among them; raises as :func:`replay_run` does."""
    summary = conn.execute(select(_runs.c.summary).where(_runs.c.id == run_id)).scalar()
    if summary is None:
        raise NotFoundError(f"no repricing run {run_id}")
    texts: dict[str, str] = summary.get("rules") or {}
    if not texts or "now" not in summary:
        raise PricingError(
            f"repricing run {run_id} was stored without its rules; it cannot be replayed"
        )
    frames = load_run_inputs(conn, run_id)
    if frames is None:
        rows = conn.execute(
            select(_changes.c.product_id, _changes.c.sku, _changes.c.currency, _changes.c.inputs)
            .where(_changes.c.run_id == run_id)
            .order_by(_changes.c.product_id)
        ).all()
        frames = _frames(rows)
    rules: list[Rule] = []
    for name in sorted(texts):
        rules.extend(parse_rules(texts[name], Path(name)))
    products, observations = frames
    if product_ids is not None:
        wanted = np.fromiter(product_ids, dtype=np.int64)
        products = products[products["product_id"].isin(wanted)].reset_index(drop=True)
        observations = observations[observations["product_id"].isin(wanted)]
        observations = observations.reset_index(drop=True)
    now = datetime.fromisoformat(summary["now"])
    currency = summary.get("currency", "RUB")
    return evaluate(products, observations, rules, now=now, currency=currency)


def _frames(rows: Sequence[Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    products = pd.DataFrame(
        [
            {"product_id": r.product_id, "sku": r.sku, "currency": r.currency, **r.inputs}
            for r in rows
        ]
    )
    seen = [
        {"product_id": r.product_id, **o} for r in rows for o in r.inputs.get("observations", [])
    ]
    for column in ("price", "cost", "stock", "map_price", "min_price", "max_price"):
        products[column] = products[column].astype("Int64")
    products["supplier_available"] = products["supplier_available"].astype("boolean")
    products["last_change_at"] = pd.to_datetime(products["last_change_at"], utc=True)
    observations = pd.DataFrame(seen, columns=OBSERVATION_COLUMNS)
    observations["observed_at"] = pd.to_datetime(observations["observed_at"], utc=True)
    observations = observations.astype(
        {"product_id": "int64", "price": "int64", "in_stock": "bool"}
    )
    return products.drop(columns=["observations"]), observations
