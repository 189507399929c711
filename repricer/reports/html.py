"""The HTML report: one self-contained file (inline CSS, inline SVG charts, one small
inline script pinned by a Content-Security-Policy hash) that opens offline.

Jinja2 autoescaping is on, so every scraped string (competitor titles, URLs) is
escaped; links are kept only for http(s) URLs.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from repricer.money import format_money
from repricer.redact import redact
from repricer.reports import figures
from repricer.reports._frames import is_na, records
from repricer.reports.build import Report
from repricer.reports.history import PriceHistory

MAX_TABLE_ROWS = 5000  # a browser stays responsive; the XLSX and CSV hold every product


def write_html(report: Report, path: Path) -> Path:
    """Write the run report to ``path`` (UTF-8) and return the path."""
    return _write(path, render_report(report))


def write_history_html(history: PriceHistory, path: Path) -> Path:
    """Write one SKU's price history page to ``path`` and return the path."""
    env = _env()
    page = env.get_template("history.html.j2").render(
        h=_story(history), generated_at=datetime.now(UTC), **_script()
    )
    return _write(path, page)


def render_report(report: Report, *, max_rows: int = MAX_TABLE_ROWS) -> str:
    """The report as an HTML string; the table shows at most ``max_rows`` products
    (those needing approval first, then the largest changes), the charts cover all."""
    changes = report.changes
    charts = [
        Markup(figures.change_distribution(changes, report.summary.counts.products)),
        Markup(figures.market_position(changes)),
        Markup(figures.margin_by_category(changes, report.currency)),
    ]
    stories = [_story(h) for h in report.histories]
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            run=report.run,
            s=report.summary,
            charts=charts,
            rows=_rows(table_rows(changes, max_rows)),
            hidden_rows=max(0, len(changes) - max_rows),
            statuses=sorted(report.summary.statuses),
            stories=stories,
            story_skus={h["sku"] for h in stories},
            generated_at=report.generated_at,
            **_script(),
        )
    )


def table_rows(changes: pd.DataFrame, max_rows: int) -> pd.DataFrame:
    """At most ``max_rows`` rows in SKU order: needing approval first, then by |change %|."""
    if len(changes) <= max_rows:
        return changes
    rank = changes.assign(
        _queue=changes["status"] != "needs_approval", _size=-changes["change_pct"].abs().fillna(0)
    )
    kept = rank.sort_values(["_queue", "_size"], kind="stable").index[:max_rows]
    return changes.loc[kept].sort_values("sku", kind="stable")


def _rows(changes: pd.DataFrame) -> list[dict[str, Any]]:
    rows = records(changes)
    for row in rows:
        words = (row["sku"], row["title"], row["category"], row["rule"], row["explanation"])
        row["search"] = " ".join(str(w) for w in words if w).lower()
    return rows


def _story(history: PriceHistory) -> dict[str, Any]:
    return {
        "sku": history.sku,
        "title": history.title,
        "currency": history.currency,
        "chart": Markup(figures.history_chart(history)),
        "listings": records(history.listings),
    }


@cache
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("repricer.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(money=_money, pct=_pct, when=_when, safe_url=safe_url)
    return env


@cache
def _script() -> dict[str, Any]:
    script = files("repricer.reports").joinpath("templates/report.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    return {"script": Markup(script), "script_hash": f"sha256-{digest}"}


def safe_url(url: Any) -> str | None:
    """The URL, redacted, when it is http(s), else None (no ``javascript:`` links from
    scraped data, no credentials or tokens in a shared report)."""
    if not isinstance(url, str):
        return None
    return redact(url) if urlsplit(url.strip()).scheme.lower() in ("http", "https") else None


def _money(minor: Any, currency: str, signed: bool = False) -> str:
    if minor is None or is_na(minor):
        return "—"
    text = format_money(int(minor), currency)
    return "+" + text if signed and int(minor) > 0 else text


def _pct(value: Any, signed: bool = True) -> str:
    if value is None or is_na(value):
        return "—"
    if round(value, 1) == 0:
        return "0.0%"
    return f"{value:+.1f}%" if signed else f"{value:.1f}%"


def _when(value: Any) -> str:
    if value is None or is_na(value):
        return "—"
    return f"{pd.Timestamp(value):%Y-%m-%d %H:%M} UTC"


def _write(path: Path, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
