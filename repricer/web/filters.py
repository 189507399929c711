"""Jinja filters of the workspace: formatting only (money, percent, time, links)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import pandas as pd

from repricer.money import format_money
from repricer.reports.html import safe_url


def money(minor: Any, currency: str) -> str:
    if minor is None or (not isinstance(minor, str) and pd.isna(minor)):
        return "—"
    return format_money(int(minor), currency)


def pct(value: Any) -> str:
    if value is None or pd.isna(value):
        return "—"
    return f"{value:+.1f}%"


def when(value: Any) -> str:
    if value is None or (not isinstance(value, datetime) and pd.isna(value)):
        return "—"
    return f"{pd.Timestamp(value):%Y-%m-%d %H:%M} UTC"


def query_string(params: Mapping[str, Any], **overrides: Any) -> str:
    """``?a=1&b=2`` from ``params`` with ``overrides`` applied; empty values dropped."""
    merged = {**params, **overrides}
    kept = {k: v for k, v in merged.items() if v not in (None, "", False)}
    return "?" + urlencode(kept, doseq=True) if kept else "?"


FILTERS = {"money": money, "pct": pct, "when": when, "safe_url": safe_url}
