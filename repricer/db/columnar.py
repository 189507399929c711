"""Whole query results as columns, and rows written in bulk, without a Python object
per row in between.

:func:`read_frame` runs a SELECT and returns a DataFrame of the given dtypes. On
PostgreSQL the query runs as ``COPY (query) TO STDOUT`` in CSV and pandas' C parser
reads the stream as it arrives; on SQLite the sqlite3 cursor hands over tuples in
chunks that numpy turns into columns. :func:`write_rows` inserts rows with ``COPY ...
FROM STDIN`` on PostgreSQL and ``executemany`` elsewhere. Both run on the caller's
connection, inside its transaction.

Queries should yield numbers where they can (ids, minor units, 0/1, epoch
microseconds from :func:`epoch_us`): numbers cross the driver fastest.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    JSON,
    BigInteger,
    Connection,
    Integer,
    Select,
    String,
    Table,
    case,
    cast,
    func,
    insert,
    literal,
    type_coerce,
)
from sqlalchemy.sql.elements import ColumnElement

_CHUNK = 250_000  # rows per fetchmany on SQLite: bounds the tuples alive at once


def epoch_us(column: Any, dialect: str) -> ColumnElement[int]:
    """SQL: a timestamp column as integer microseconds since 1970-01-01 UTC."""
    if dialect == "postgresql":
        return cast(func.extract("epoch", column) * 1_000_000, BigInteger)
    text = type_coerce(column, String)
    seconds = cast(func.strftime("%s", text), Integer)
    # SQLite stores "YYYY-MM-DD HH:MM:SS.ffffff": the fraction is the 6 digits at 21.
    fraction = cast(func.substr(text.concat("000000"), 21, 6), Integer)
    has_fraction = func.substr(text, 20, 1) == literal(".")
    return seconds * 1_000_000 + case((has_fraction, fraction), else_=0)


def read_frame(conn: Connection, stmt: Select[Any], dtypes: Mapping[str, str]) -> pd.DataFrame:
    """The rows of ``stmt`` as a DataFrame with one column per ``dtypes`` entry (in the
    statement's column order): ``int64``, ``Int64`` (nullable), ``bool`` (from 0/1),
    ``boolean`` (nullable) or ``object`` (text)."""
    names = list(dtypes)
    if conn.dialect.name == "postgresql":
        return _copy_out(conn, stmt, names, dtypes)
    return _fetch(conn, stmt, names, dtypes)


def _fetch(
    conn: Connection, stmt: Select[Any], names: list[str], dtypes: Mapping[str, str]
) -> pd.DataFrame:
    cursor = conn.execute(stmt).cursor  # the DBAPI cursor: plain tuples, no Row objects
    assert cursor is not None
    parts: list[list[Any]] = [[] for _ in names]
    while rows := cursor.fetchmany(_CHUNK):
        for i, values in enumerate(zip(*rows, strict=True)):
            parts[i].append(_column(values, dtypes[names[i]]))
    cursor.close()
    data = {
        name: _concat(part) if part else _column((), dtypes[name])
        for name, part in zip(names, parts, strict=True)
    }
    return pd.DataFrame(data, columns=names)


def _column(values: Sequence[Any], dtype: str) -> Any:
    if dtype == "int64":
        return np.array(values, dtype=np.int64)
    if dtype == "bool":
        return np.array(values, dtype=bool)
    if dtype in ("Int64", "boolean"):
        return pd.array(np.array(values, dtype=object), dtype=dtype)  # type: ignore[call-overload]
    return np.array(values, dtype=object)


def _concat(parts: list[Any]) -> Any:
    if isinstance(parts[0], np.ndarray):
        return np.concatenate(parts)
    return pd.concat([pd.Series(p) for p in parts], ignore_index=True).array


class _CopyStream(io.RawIOBase):
    """A file over the blocks of a COPY TO STDOUT, read as pandas asks for them."""

    def __init__(self, blocks: Iterator[Any]) -> None:
        self._blocks = blocks
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            block = next(self._blocks, None)
            if block is None:
                return 0
            self._pending = memoryview(bytes(block))
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


_CSV_TYPES: dict[str, Any] = {
    "int64": "int64",
    "Int64": "Int64",
    "bool": object,
    "boolean": object,
    "object": object,
}
_TRUE = ["t", "1", "true"]  # PostgreSQL writes booleans as t/f, expressions may give 1/0


def _copy_out(
    conn: Connection, stmt: Select[Any], names: list[str], dtypes: Mapping[str, str]
) -> pd.DataFrame:
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    raw = conn.connection.driver_connection
    assert raw is not None
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv)", compiled.params) as copy,
    ):
        stream = io.BufferedReader(_CopyStream(iter(copy)), buffer_size=1 << 20)
        frame = pd.read_csv(
            stream,
            header=None,
            names=names,
            dtype={n: _CSV_TYPES[dtypes[n]] for n in names},
            keep_default_na=False,
            na_values=[""],
        )
    for name in names:
        if dtypes[name] in ("bool", "boolean"):
            values = frame[name]
            truth = pd.array(np.isin(values.to_numpy(dtype=object), _TRUE), dtype="boolean")
            if dtypes[name] == "boolean":
                truth[np.asarray(values.isna(), dtype=bool)] = pd.NA
            frame[name] = truth if dtypes[name] == "boolean" else truth.to_numpy(dtype=bool)
        elif dtypes[name] == "object":
            frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return frame


def write_rows(
    conn: Connection, table: Table, columns: list[str], rows: list[tuple[Any, ...]]
) -> None:
    """Insert ``rows`` (tuples of Python values in ``columns`` order; JSON columns as
    lists/dicts): COPY FROM STDIN on PostgreSQL, one executemany elsewhere."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        assert raw is not None
        names = ", ".join(columns)
        as_json = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, JSON)]
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                if as_json:
                    row = tuple(json.dumps(v) if i in as_json else v for i, v in enumerate(row))
                copy.write_row(row)
        return
    conn.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
