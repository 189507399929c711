"""How many products a repricing run moved up, down, left alone, queued or skipped.

The engine writes these counts into the run's stored summary
(``repricing_runs.summary``) when it decides; :func:`run_counts` reads them back. Every
place that shows a run's counts (``repricer reprice`` and its ``--json``, the scheduler's
job log, the run report in HTML and XLSX, ``repricer report`` and the workspace's runs
page) goes through it, so one run reads the same everywhere.

The counts are the engine's decisions. What review did afterwards (approved, rejected,
pushed ...) is a different question, answered by the statuses of the run's changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, select

from repricer.db.models import RepricingRun
from repricer.exceptions import NotFoundError


@dataclass(frozen=True)
class RunCounts:
    """Products of one run by decision. ``products`` = ``unchanged`` + ``skipped`` +
    ``proposed`` + ``needs_approval``; ``up`` and ``down`` split the changes (proposed or
    needing approval) that have an old price to compare with."""

    products: int
    up: int
    down: int
    unchanged: int
    proposed: int
    needs_approval: int
    skipped: int

    @property
    def changes(self) -> int:
        """Price changes the run proposed, whether auto-approvable or needing approval."""
        return self.proposed + self.needs_approval

    def as_dict(self) -> dict[str, int]:
        """The counts by name, for JSON."""
        return asdict(self)

    def describe(self) -> str:
        """``8 products, 3 up, 2 down, 1 unchanged, 1 need approval, 1 skipped``."""
        return (
            f"{self.products} products, {self.up} up, {self.down} down, "
            f"{self.unchanged} unchanged, {self.needs_approval} need approval, "
            f"{self.skipped} skipped"
        )


def run_counts(summary: Mapping[str, Any] | None) -> RunCounts:
    """The counts held in a run's stored summary (a count it lacks is 0)."""
    found = summary or {}
    return RunCounts(**{name: int(found.get(name) or 0) for name in RunCounts.__dataclass_fields__})


def load_run_counts(conn: Connection, run_id: int) -> RunCounts:
    """The counts of run ``run_id``; ``NotFoundError`` when there is no such run."""
    query = select(RepricingRun.summary).where(RepricingRun.id == run_id)
    row = conn.execute(query).first()
    if row is None:
        raise NotFoundError(f"repricing run {run_id}: no such run")
    return run_counts(row.summary)
