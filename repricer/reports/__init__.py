"""Reports of repricing runs (HTML with charts, XLSX, CSV) and per-SKU price history.

``build_report`` gathers the data (pandas); the writers only format it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from sqlalchemy import Engine

from repricer.reports.build import Report, build_report
from repricer.reports.csvout import write_csv, write_history_csv
from repricer.reports.history import PriceHistory, price_history
from repricer.reports.html import write_history_html, write_html
from repricer.reports.xlsx import write_xlsx

ReportFormat = Literal["html", "xlsx", "csv"]
HistoryFormat = Literal["html", "csv"]

__all__ = [
    "PriceHistory",
    "Report",
    "build_report",
    "price_history",
    "write_csv",
    "write_history",
    "write_history_csv",
    "write_history_html",
    "write_html",
    "write_report",
    "write_xlsx",
]


def write_report(
    engine: Engine, run_id: int | None, fmt: ReportFormat, out: Path | None = None
) -> tuple[Report, Path]:
    """Build the report of run ``run_id`` (None: latest) and write it as ``fmt`` to
    ``out`` (default ``report-run<ID>.<fmt>`` in the current folder)."""
    report = build_report(engine, run_id)
    path = Path(out) if out else Path(f"report-run{report.run.id}.{fmt}")
    writers = {"html": write_html, "xlsx": write_xlsx, "csv": write_csv}
    return report, writers[fmt](report, path)


def write_history(
    engine: Engine, sku: str, fmt: HistoryFormat, out: Path | None = None
) -> tuple[PriceHistory, Path]:
    """Write the price history of ``sku`` as ``fmt`` (html page or csv points) to ``out``
    (default ``history-<SKU>.<fmt>``, unsafe file-name characters replaced by ``_``)."""
    history = price_history(engine, sku)
    path = Path(out) if out else Path(f"history-{re.sub(r'[^A-Za-z0-9._-]+', '_', sku)}.{fmt}")
    writers = {"html": write_history_html, "csv": write_history_csv}
    return history, writers[fmt](history, path)
