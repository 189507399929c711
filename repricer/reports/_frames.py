"""Small helpers shared by the report builders: SQL -> DataFrame, nullable money columns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Executable

MONEY_DTYPE = "Int64"  # nullable int64: minor units, never float


def read_frame(conn: Connection, query: Executable) -> pd.DataFrame:
    """Run ``query`` and return its rows as a DataFrame (column types as SQLAlchemy
    returns them, so datetimes are timezone-aware UTC)."""
    result = conn.execute(query)
    return pd.DataFrame.from_records(list(result), columns=list(result.keys()))


def as_money(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Cast money columns to nullable Int64 in place and return the frame."""
    for column in columns:
        frame[column] = pd.Series(frame[column].tolist(), index=frame.index, dtype=MONEY_DTYPE)
    return frame


def percent(numerator: pd.Series[Any], denominator: pd.Series[Any]) -> pd.Series[Any]:
    """``numerator / denominator * 100`` as float64 with NaN where undefined (ratios only,
    never money)."""
    num = numerator.astype("Float64")
    den = denominator.astype("Float64").where(denominator.astype("Float64") != 0)
    return (num * 100 / den).astype("float64")


def utc_timestamp(value: datetime) -> pd.Timestamp:
    """A timezone-aware UTC Timestamp (naive values, as SQLite returns them, are UTC)."""
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """DataFrame rows as dicts with NA/NaN/NaT turned into None."""
    plain = frame.astype(object).where(frame.notna(), None)
    return [{str(k): v for k, v in row.items()} for row in plain.to_dict("records")]


def is_na(value: Any) -> bool:
    """True for None, NaN, NA and NaT (never for lists, dicts or strings)."""
    return value is None or (not isinstance(value, list | dict | str) and bool(pd.isna(value)))
