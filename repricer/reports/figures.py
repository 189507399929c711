"""The report's charts: what is drawn from a :class:`Report` (the SVG itself is in
:mod:`repricer.reports.charts`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from repricer.money import format_money, minor_digits
from repricer.reports.charts import (
    AFTER,
    BEFORE,
    DOWN,
    PALETTE,
    SAME,
    UP,
    Bars,
    Line,
    bar_chart,
    line_chart,
)
from repricer.reports.history import COST, OUR_PRICE, PROPOSED, PriceHistory

CHANGE_BINS = [-np.inf, -20, -10, -5, -2, 0, 2, 5, 10, 20, np.inf]
CHANGE_LABELS = [
    "<−20%",
    "−20…−10",
    "−10…−5",
    "−5…−2",
    "−2…0",
    "0…2",
    "2…5",
    "5…10",
    "10…20",
    ">20%",
]
POSITION_BINS = [-np.inf, -10, -0.5, 0.5, 10, np.inf]
POSITION_LABELS = [
    "cheaper >10%",
    "cheaper 0.5–10%",
    "at market ±0.5%",
    "dearer 0.5–10%",
    "dearer >10%",
]
TOP_CATEGORIES = 8


def money_fmt(currency: str) -> Callable[[float], str]:
    """Axis/tooltip formatter for values in major units."""
    scale = 10 ** minor_digits(currency)
    return lambda v: format_money(round(v * scale), currency)


def _major(values: pd.Series[Any], currency: str) -> list[float]:
    return [float(v) / 10 ** minor_digits(currency) for v in values.fillna(0)]


def change_distribution(changes: pd.DataFrame, products: int) -> str:
    """How many of the run's ``products`` moved by how much: red down, grey unchanged
    (every product of the run whose price stays, stored or not), green up."""
    moved = changes[changes["change"].fillna(0) != 0]
    counts = pd.cut(
        moved["change_pct"], CHANGE_BINS, labels=CHANGE_LABELS, right=False
    ).value_counts()
    labels = [*CHANGE_LABELS[:5], "unchanged", *CHANGE_LABELS[5:]]
    values = [float(counts.get(label, 0)) for label in CHANGE_LABELS]
    values.insert(5, float(max(products, len(changes)) - len(moved)))
    colors = [DOWN] * 5 + [SAME] + [UP] * 5
    return bar_chart(
        "Distribution of price changes (products)",
        labels,
        [Bars("products", values, colors=colors)],
        lambda v: f"{v:g}",
    )


def market_position(changes: pd.DataFrame) -> str:
    """Our price against the cheapest competitor, before and after the run."""
    series = []
    for name, column, color in (
        ("before", "position_before_pct", BEFORE),
        ("after", "position_after_pct", AFTER),
    ):
        counts = pd.cut(
            changes[column].dropna(), POSITION_BINS, labels=POSITION_LABELS
        ).value_counts()
        series.append(Bars(name, [float(counts.get(label, 0)) for label in POSITION_LABELS], color))
    return bar_chart("Our position vs the cheapest competitor (products)", POSITION_LABELS, series)


def margin_by_category(changes: pd.DataFrame, currency: str) -> str:
    """Per-unit margin before and after, summed per category (largest categories)."""
    known = changes[changes["currency"] == currency].dropna(
        subset=["margin_before", "margin_after"]
    )
    known = known.assign(category=known["category"].fillna("(none)"))
    grouped = known.groupby("category")[["margin_before", "margin_after"]].sum()
    top = known["category"].value_counts().index[:TOP_CATEGORIES]
    grouped = grouped.loc[list(top)] if len(grouped) else grouped
    labels = [str(c) if len(str(c)) <= 14 else str(c)[:13] + "…" for c in grouped.index]
    series = [
        Bars("margin before", _major(grouped["margin_before"], currency), BEFORE),
        Bars("margin after", _major(grouped["margin_after"], currency), AFTER),
    ]
    return bar_chart(
        "Margin per unit before / after, by category", labels, series, money_fmt(currency)
    )


def history_chart(history: PriceHistory) -> str:
    """Our price (dark), proposed (dashed), cost (grey) and each competitor over time."""
    points = history.points
    lines: list[Line] = []
    fmt = money_fmt(history.currency)
    end = points["at"].max() if not points.empty else None
    competitors = 0
    for name, group in points.groupby("series", sort=True):
        kind = str(group["kind"].iloc[0])
        coords = [
            (at.to_pydatetime(), _major_one(price, history.currency))
            for at, price in zip(group["at"], group["price"], strict=True)
        ]
        if kind == "proposed" and end is not None:
            lines.append(_proposed_line(points, coords, end.to_pydatetime(), history.currency))
        elif kind == "ours":
            lines.append(Line(OUR_PRICE, coords, "#0f172a", width=3))
        elif kind == "cost":
            lines.append(Line(COST, coords, "#64748b", width=1.5))
        else:
            lines.append(Line(str(name), coords, PALETTE[competitors % len(PALETTE)]))
            competitors += 1
    title = f"{history.sku} {history.title or ''}".strip()
    return line_chart(title if len(title) <= 70 else title[:69] + "…", lines, fmt)


def _major_one(minor: Any, currency: str) -> float:
    return float(minor) / float(10 ** minor_digits(currency))


def _proposed_line(
    points: pd.DataFrame, coords: list[tuple[datetime, float]], end: datetime, currency: str
) -> Line:
    """Dashed from our price when the run decided to the proposed price at the right edge."""
    at, proposed = coords[-1]
    ours = points[(points["kind"] == "ours") & (points["at"] <= at)]
    start = _major_one(ours["price"].iloc[-1], currency) if not ours.empty else proposed
    span = end - points["at"].min().to_pydatetime()
    right = max(end, at + max(span * 0.08, timedelta(hours=1)))
    return Line(PROPOSED, [(at, start), (right, proposed)], AFTER, dashed=True)
