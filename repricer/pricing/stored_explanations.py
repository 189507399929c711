"""Explanations of stored decisions, rendered for the rows someone looks at.

A run stores no explanation text: ``price_changes.explanation`` stays empty, and the
line of a stored decision is rendered when a command, report, review or the workspace
shows it, by the one renderer (:func:`repricer.pricing.explain.render_explanations`),
from the decision replayed out of the run's compact inputs and rule texts
(:func:`repricer.pricing.replay.replay_decisions`). Replay gives the stored decision
again (its ``now`` is the run's), so the text is the one the run would have stored.
Rows stored with their text (runs before this) keep it; a run that cannot be replayed
(stored without its rules) leaves its rows' text empty.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from repricer.exceptions import NotFoundError, PricingError
from repricer.pricing.explain import render_explanations
from repricer.pricing.replay import replay_decisions


def explain_stored(conn: Connection, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """The explanation of each stored decision ``(run_id, product_id)`` that can be
    replayed (decisions of one run are replayed together, only those asked for)."""
    by_run: dict[int, set[int]] = {}
    for run_id, product_id in keys:
        by_run.setdefault(int(run_id), set()).add(int(product_id))
    texts: dict[tuple[int, int], str] = {}
    for run_id, product_ids in by_run.items():
        try:
            decisions = replay_decisions(conn, run_id, product_ids)
        except (NotFoundError, PricingError):
            continue
        lines = render_explanations(decisions)
        for product_id, line in zip(decisions.product_id.tolist(), lines, strict=True):
            texts[(run_id, int(product_id))] = str(line)
    return texts


def fill_explanations(
    conn: Connection,
    rows: Sequence[MutableMapping[str, Any]],
    *,
    run: str = "run_id",
    product: str = "product_id",
) -> None:
    """Set ``explanation`` of the ``rows`` (mappings with the run and product ids under
    ``run`` and ``product``) that have none stored."""
    missing = [row for row in rows if not row.get("explanation")]
    if not missing:
        return
    texts = explain_stored(conn, ((row[run], row[product]) for row in missing))
    for row in missing:
        row["explanation"] = texts.get((int(row[run]), int(row[product])), "")


def explained_frame(conn: Connection, frame: pd.DataFrame, run_id: int) -> pd.DataFrame:
    """``frame`` (stored decisions of run ``run_id``: ``product_id`` and
    ``explanation`` columns) with the missing explanations rendered."""
    empty = frame["explanation"].fillna("").eq("")
    if not empty.any():
        return frame
    wanted = frame.loc[empty, "product_id"].astype("int64").tolist()
    texts = explain_stored(conn, ((run_id, product_id) for product_id in wanted))
    filled = [texts.get((run_id, product_id), "") for product_id in wanted]
    frame = frame.copy()
    frame.loc[empty, "explanation"] = pd.Series(filled, index=frame.index[empty], dtype=object)
    return frame
