"""Binary COPY decoded into arrays: exact values of every kind, any split of the
stream into blocks, no rows, and NULLs or server errors refused clearly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import psycopg
import pytest
from sqlalchemy import Engine, text

from repricer.db import pgcopy
from repricer.db.pgcopy import CopyField, copy_columns

FIELDS = [
    CopyField("small", "int4"),
    CopyField("big", "int8"),
    CopyField("flag", "bool"),
    CopyField("at", "time"),
]
TIMES = [
    datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),  # before PostgreSQL's epoch
    datetime(1969, 7, 20, 20, 17, 40, 1, tzinfo=UTC),  # before 1970
    datetime(2000, 1, 1, tzinfo=UTC),
]
# negatives, 32-bit and 64-bit extremes, both flags, the times above
ROWS = """
SELECT CASE WHEN i = 1 THEN 2147483647 WHEN i = 2 THEN -2147483648 ELSE i * 7 - 3000 END,
       CASE WHEN i = 1 THEN 9223372036854775807
            ELSE CASE WHEN mod(i, 2) = 0 THEN 1 ELSE -1 END * (1099511627776 + i) END,
       mod(i, 3) = 0,
       (ARRAY[{times}]::timestamptz[])[mod(i, 4) + 1]
FROM generate_series(1, %(rows)s) AS i ORDER BY i
"""


def _query() -> str:
    return ROWS.format(times=", ".join(f"'{t.isoformat()}'" for t in TIMES))


def _expected(i: int) -> tuple[int, int, bool, int]:
    small = {1: 2**31 - 1, 2: -(2**31)}.get(i, i * 7 - 3000)
    big = 2**63 - 1 if i == 1 else (1 if i % 2 == 0 else -1) * (2**40 + i)
    at = TIMES[i % 4] - datetime(1970, 1, 1, tzinfo=UTC)
    return small, big, i % 3 == 0, at // timedelta(microseconds=1)


def _read(engine: Engine, query: str, params: object, fields: list[CopyField]) -> dict[str, Any]:
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert isinstance(raw, psycopg.Connection)
        return copy_columns(raw, query, params, fields)


@pytest.mark.parametrize("block_bytes", [8 << 20, 7, 1000], ids=["one-block", "tiny", "mid-row"])
def test_values_come_back_exactly_in_order(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch, block_bytes: int
) -> None:
    """Blocks smaller than a row, or ending amid one, decode as one block does."""
    monkeypatch.setattr(pgcopy, "_BLOCK_BYTES", block_bytes)
    columns = _read(pg_engine, _query(), {"rows": 1000}, FIELDS)
    got = list(zip(*(columns[f.name].tolist() for f in FIELDS), strict=True))
    assert got == [_expected(i) for i in range(1, 1001)]
    assert columns["small"].dtype == np.int64 and columns["flag"].dtype == bool
    assert columns["at"].dtype == np.int64


def test_no_rows_give_empty_columns(pg_engine: Engine) -> None:
    columns = _read(pg_engine, _query(), {"rows": 0}, FIELDS)
    assert all(len(values) == 0 for values in columns.values())
    assert columns["flag"].dtype == bool and columns["big"].dtype == np.int64


@pytest.mark.parametrize("where", [1, 700, 1000], ids=["first", "amid", "last"])
def test_a_null_is_refused_naming_its_column(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch, where: int
) -> None:
    """Wherever the NULL falls (several blocks), the error names its column and the
    connection is left usable."""
    monkeypatch.setattr(pgcopy, "_BLOCK_BYTES", 4096)
    query = "SELECT i, NULLIF(i, %(where)s)::int8 FROM generate_series(1, 1000) AS i ORDER BY i"
    fields = [CopyField("id", "int4"), CopyField("amount", "int8")]
    with pg_engine.connect() as conn:
        conn.execute(text("SELECT 1"))  # in a transaction, as readers are
        raw = conn.connection.driver_connection
        assert isinstance(raw, psycopg.Connection)
        with pytest.raises(ValueError, match="'amount'"):
            copy_columns(raw, query, {"where": where}, fields)
        conn.rollback()
        assert conn.execute(text("SELECT 41 + 1")).scalar() == 42


def test_a_server_error_amid_the_copy_is_raised(pg_engine: Engine) -> None:
    query = "SELECT 1 / (i - 900) FROM generate_series(1, 1000) AS i ORDER BY i"
    with pg_engine.connect() as conn:
        conn.execute(text("SELECT 1"))  # in a transaction, as readers are
        raw = conn.connection.driver_connection
        assert isinstance(raw, psycopg.Connection)
        with pytest.raises(psycopg.errors.DivisionByZero):
            copy_columns(raw, query, None, [CopyField("ratio", "int4")])
        conn.rollback()
        assert conn.execute(text("SELECT 41 + 1")).scalar() == 42


def test_a_value_of_another_width_is_refused(pg_engine: Engine) -> None:
    with pytest.raises(ValueError, match="'id'"):
        _read(pg_engine, "SELECT 5::int8 AS id", None, [CopyField("id", "int4")])
