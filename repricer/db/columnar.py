"""Whole query results as columns, and rows written in bulk, without a Python object
per row in between.

:func:`read_frame` runs a SELECT and returns a DataFrame of the given dtypes. On
PostgreSQL the server writes the rows as CSV text in large blocks (``string_agg``
over numbered rows, read through a server-side cursor one block at a time) and pandas'
C parser reads them as they arrive; :func:`read_columns` of numbers only takes one
binary array per column instead (``string_agg`` of ``int8send``: no text at all). On
SQLite the sqlite3 cursor hands over tuples in chunks that numpy turns into columns.
:func:`write_rows` inserts rows with ``COPY ... FROM STDIN`` on PostgreSQL and one
driver-level ``executemany`` elsewhere (values converted per distinct object, not per
row). Both run on the caller's connection, inside its transaction.

Queries should yield numbers where they can (ids, minor units, 0/1, epoch
microseconds from :func:`epoch_us`): numbers cross the driver fastest.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Connection,
    Integer,
    Select,
    String,
    Table,
    Text,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.elements import ColumnElement

_CHUNK = 250_000  # rows per CSV block on PostgreSQL
_UNIXEPOCH = sqlite3.sqlite_version_info >= (3, 38, 0)  # unixepoch(): 4x strftime('%s')
_FETCH_ROWS = 50_000  # rows per fetchmany on SQLite: bounds the tuples alive at once


def epoch_us(column: Any, dialect: str) -> ColumnElement[int]:
    """SQL: a timestamp column as integer microseconds since 1970-01-01 UTC."""
    if dialect == "postgresql":
        return cast(func.extract("epoch", column) * 1_000_000, BigInteger)
    text = type_coerce(column, String)
    # SQLite stores "YYYY-MM-DD HH:MM:SS.ffffff": the fraction is the 6 digits at 21.
    # Its date functions round the time to milliseconds, which carries a fraction from
    # .9995 into the next second: such times (from .999 on, to be safe) take their
    # seconds from the first 19 characters only (slower: a substring per row).
    fraction = cast(func.substr(text.concat("000000"), 21, 6), Integer)
    has_fraction = func.substr(text, 20, 1) == literal(".")
    micros = case((has_fraction, fraction), else_=0)
    if _UNIXEPOCH:
        seconds: ColumnElement[int] = case(
            (micros >= 999_000, func.unixepoch(func.substr(text, 1, 19))),
            else_=func.unixepoch(text),
        )
    else:
        seconds = cast(func.strftime("%s", func.substr(text, 1, 19)), Integer)
    return seconds * 1_000_000 + micros


def read_frame(conn: Connection, stmt: Select[Any], dtypes: Mapping[str, str]) -> pd.DataFrame:
    """The rows of ``stmt`` as a DataFrame with one column per ``dtypes`` entry (in the
    statement's column order): ``int64``, ``Int64`` (nullable), ``bool`` (from 0/1),
    ``boolean`` (nullable) or ``object`` (text)."""
    names = list(dtypes)
    if conn.dialect.name == "postgresql":
        return _copy_out(conn, stmt, names, dtypes)
    data = _fetch(conn, stmt, names, dtypes)
    for name in names:  # text stays Python objects with None for NULL (no str inference)
        if dtypes[name] == "object":
            data[name] = pd.Series(data[name], dtype=object)
    return pd.DataFrame(data, columns=names)


def read_columns(conn: Connection, stmt: Select[Any], dtypes: Mapping[str, str]) -> dict[str, Any]:
    """:func:`read_frame`'s columns as separate arrays: no DataFrame, so no copy of the
    columns into one block (for large reads that are filtered before use). Rows may
    come in any order (the columns stay aligned): on PostgreSQL a statement of
    ``int64``/``bool`` columns only crosses as binary arrays (:func:`_binary_arrays`)."""
    names = list(dtypes)
    if conn.dialect.name == "postgresql" and all(dtypes[n] in ("int64", "bool") for n in names):
        return _binary_columns(conn, stmt, names, dtypes)
    if conn.dialect.name == "postgresql":
        frame = _copy_out(conn, stmt, names, dtypes)
        plain = ("int64", "bool")
        return {
            name: frame.pop(name).to_numpy() if dtypes[name] in plain else frame.pop(name).array
            for name in names
        }
    return _fetch(conn, stmt, names, dtypes)


def _fetch(
    conn: Connection, stmt: Select[Any], names: list[str], dtypes: Mapping[str, str]
) -> dict[str, Any]:
    cursor = conn.execute(stmt).cursor  # the DBAPI cursor: plain tuples, no Row objects
    assert cursor is not None
    parts: list[list[Any]] = [[] for _ in names]
    numeric = all(dtypes[name] in ("int64", "bool") for name in names)
    while rows := cursor.fetchmany(_FETCH_ROWS):
        if numeric:  # one flat pass over the values, no per-column tuples
            flat = np.fromiter(chain.from_iterable(rows), np.int64, len(rows) * len(names))
            table = flat.reshape(len(rows), len(names))
            for i, name in enumerate(names):
                parts[i].append(table[:, i].astype(dtypes[name]))
            continue
        # the values in one flat object array (half the cost of zip(*rows)), then by column
        boxed = np.fromiter(chain.from_iterable(rows), object, len(rows) * len(names))
        table = boxed.reshape(len(rows), len(names))
        for i, name in enumerate(names):
            parts[i].append(_column(table[:, i], dtypes[name]))
    cursor.close()
    data: dict[str, Any] = {}
    for name, part in zip(names, parts, strict=True):  # one column's chunks alive twice
        data[name] = _concat(part) if part else _column(np.array([], object), dtypes[name])
        part.clear()
    return data


def _column(values: npt.NDArray[Any], dtype: str) -> Any:
    """An object array of driver values as a column of ``dtype``."""
    if dtype in ("int64", "bool"):
        return values.astype(dtype)
    if dtype in ("Int64", "boolean"):
        boxed = np.array(values, dtype=object)
        null = np.asarray(boxed == None, dtype=bool)  # noqa: E711 (elementwise)
        boxed[null] = 0
        if dtype == "Int64":
            return pd.arrays.IntegerArray(boxed.astype(np.int64), null)
        return pd.arrays.BooleanArray(boxed.astype(bool), null)
    return _shared(np.array(values, dtype=object))


def _shared(texts: Any) -> Any:
    """Equal texts as one object each (categories, brands, currencies repeat over a
    million rows; the driver makes a new string per row)."""
    codes, uniques = pd.factorize(texts)
    table = np.empty(len(uniques) + 1, dtype=object)
    table[: len(uniques)] = uniques
    table[-1] = None  # factorize codes NULL as -1
    return table[codes]


def _concat(parts: list[Any]) -> Any:
    if isinstance(parts[0], np.ndarray):
        return np.concatenate(parts)
    return pd.concat([pd.Series(p) for p in parts], ignore_index=True).array


class _BlockStream(io.RawIOBase):
    """A file over blocks of bytes, read as pandas asks for them."""

    def __init__(self, blocks: Iterator[bytes]) -> None:
        self._blocks = blocks
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            block = next(self._blocks, None)
            if block is None:
                return 0
            self._pending = memoryview(block)
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
    compiled = _csv_blocks(stmt, names, dtypes).compile(
        dialect=conn.dialect, compile_kwargs={"render_postcompile": True}
    )
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor(name="repricer_read_frame") as cursor:
        cursor.itersize = 1  # one block (up to _CHUNK rows of CSV) per round trip
        cursor.execute(str(compiled), compiled.params)
        blocks = (f"{text}\n".encode() for (text,) in cursor if text is not None)
        stream = io.BufferedReader(_BlockStream(blocks), buffer_size=1 << 20)
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
        elif dtypes[name] == "object":  # drop the mark each text carries (see _csv_cell)
            texts = frame[name].astype(object)
            frame[name] = texts.str.slice(1).where(texts.notna(), None)
    return frame


def _csv_blocks(stmt: Select[Any], names: list[str], dtypes: Mapping[str, str]) -> Select[Any]:
    """SQL: the rows of ``stmt`` as CSV text, ``_CHUNK`` lines per row of the result, in
    the statement's order. PostgreSQL sends a COPY one message per row, which costs
    Python more than the rows themselves; these blocks cross in a few messages."""
    rows = stmt.subquery("rows")
    cells = [_csv_cell(column, dtypes[name]) for column, name in zip(rows.c, names, strict=True)]
    numbered = select(
        func.concat_ws(",", *cells).label("line"), func.row_number().over().label("n")
    ).subquery("numbered")
    block = (numbered.c.n - 1) // _CHUNK
    ordered: Any = aggregate_order_by(literal_column("E'\\n'"), numbered.c.n)
    blocks: Select[Any] = select(func.string_agg(numbered.c.line, ordered))
    return blocks.group_by(block).order_by(block)


def _csv_cell(column: Any, dtype: str) -> ColumnElement[str]:
    """SQL: one CSV field; NULL is the empty field. Text is quoted and starts with a
    mark character, so an empty text (``"."``) stays apart from NULL: a CSV reader
    cannot tell a quoted empty field from an empty one."""
    text = cast(column, Text)
    if dtype == "object":
        quoted = literal('".') + func.replace(text, '"', '""') + literal('"')
        return case((column.is_(None), ""), else_=quoted)
    return func.coalesce(text, "")


def _binary_columns(
    conn: Connection, stmt: Select[Any], names: list[str], dtypes: Mapping[str, str]
) -> dict[str, Any]:
    query, widths = _binary_arrays(stmt, names)
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor(binary=True) as cursor:  # bytea as bytes, not hex text
        cursor.execute(str(compiled), compiled.params)
        row = list(cursor.fetchone() or [None] * len(names))
    count = len(row[0] or b"") // widths[0]
    data: dict[str, Any] = {}
    for i, (name, width) in enumerate(zip(names, widths, strict=True)):
        value, row[i] = row[i] or b"", None  # each column's bytes go once converted
        if len(value) != count * width:  # string_agg skips NULLs: the columns would misalign
            raise ValueError(f"NULL in the non-nullable column {name!r}")
        data[name] = np.frombuffer(value, dtype=f">i{width}").astype(dtypes[name])
    return data


def _binary_arrays(stmt: Select[Any], names: list[str]) -> tuple[Select[Any], list[int]]:
    """SQL: the rows of ``stmt`` as one ``bytea`` per column, each value big-endian
    (``int4send`` for integer columns, ``int8send`` for the rest), and each column's
    bytes per value. Numbers cross without text formatting and parsing on either side
    and without a Python object per row; one aggregate (no numbering, no sort), whose
    columns all take the rows in the same order."""
    rows = stmt.subquery("rows")
    empty: Any = literal_column("''::bytea")
    sends, widths = [], []
    for column in list(rows.c)[: len(names)]:
        narrow = isinstance(column.type, (Integer, Boolean)) and not isinstance(
            column.type, BigInteger
        )
        value = cast(column, Integer) if narrow else cast(column, BigInteger)
        sends.append(
            func.string_agg(func.int4send(value) if narrow else func.int8send(value), empty)
        )
        widths.append(4 if narrow else 8)
    return select(*sends), widths


def write_rows(
    conn: Connection, table: Table, columns: list[str], rows: list[tuple[Any, ...]]
) -> None:
    """Insert ``rows`` (tuples of Python values in ``columns`` order; JSON columns as
    lists/dicts): COPY FROM STDIN on PostgreSQL, one executemany elsewhere."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        _copy_in(conn, table, columns, rows)
        return
    processors = [_memo(_processor(table, name, conn)) for name in columns]
    marks = ", ".join("?" * len(columns))
    conn.exec_driver_sql(
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})",
        [tuple(p(v) if p else v for p, v in zip(processors, row, strict=True)) for row in rows],
    )


def _copy_in(
    conn: Connection, table: Table, columns: list[str], rows: list[tuple[Any, ...]]
) -> None:
    """COPY ``rows`` in as CSV written by the csv module (in C; psycopg's write_row
    formats each row in Python), in blocks of _CHUNK rows. NULL is the unquoted empty
    field, which NOT NULL text columns read as an empty text (``FORCE_NOT_NULL``: None
    never goes there); a block with an empty text in a nullable column goes row by row."""
    raw = conn.connection.driver_connection
    assert raw is not None
    encoders = [_memo(json.dumps) if isinstance(table.c[c].type, JSON) else None for c in columns]
    texts = [c for c in columns if _is_text(table.c[c].type)]
    nullable = [columns.index(c) for c in texts if table.c[c].nullable]
    forced = ", ".join(c for c in texts if not table.c[c].nullable)
    head = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cursor:
        for start in range(0, len(rows), _CHUNK):
            block = rows[start : start + _CHUNK]
            if any(encoders):
                block = [
                    tuple(e(v) if e else v for e, v in zip(encoders, row, strict=True))
                    for row in block
                ]
            if any(row[i] == "" for row in block for i in nullable):
                with cursor.copy(head) as copy:
                    for row in block:
                        copy.write_row(row)
                continue
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows(block)
            options = f", FORCE_NOT_NULL ({forced})" if forced else ""
            with cursor.copy(f"{head} (FORMAT csv{options})") as copy:
                copy.write(buffer.getvalue())


def _is_text(column_type: Any) -> bool:
    return isinstance(column_type, (String, Text, JSON))


def _processor(table: Table, name: str, conn: Connection) -> Callable[[Any], Any] | None:
    """How SQLAlchemy turns a Python value of the column into the driver's (JSON text,
    datetime text on SQLite), or None when it passes values through."""
    column_type = table.c[name].type
    if isinstance(column_type, JSON):
        return json.dumps
    # the dialect's own type: a TypeDecorator's processor alone hands the driver a
    # datetime, which sqlite3 would write in its own format (with "+00:00")
    impl = column_type.dialect_impl(conn.dialect)
    processor: Callable[[Any], Any] | None = impl.bind_processor(conn.dialect)
    return processor


def _memo(processor: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """``processor`` remembering its answer per value object: a column whose rows
    share a few objects (the same flags list, one timestamp) is converted once each."""
    if processor is None:
        return None
    seen: dict[int, tuple[Any, Any]] = {}

    def convert(value: Any) -> Any:
        if value is None:
            return None
        hit = seen.get(id(value))
        if hit is None or hit[0] is not value:
            hit = seen[id(value)] = (value, processor(value))
        return hit[1]

    return convert
