"""Whole query results as columns, without a Python object per row in between.

:func:`read_columns` and :func:`read_frame` read a SELECT into one array per column.
On PostgreSQL a statement of numbers, flags and times only streams through a binary
COPY decoded by numpy (:mod:`repricer.db.pgcopy`: the cheapest way out of the server);
a statement with texts runs as ONE aggregate per column, the database packing each
column's values into one value that the client turns into an array in C: numbers as
binary (``string_agg`` of ``int8send``, ``int4send``, ``boolsend``), texts as one JSON
array (``json_agg``), times as epoch microseconds. On SQLite every column is one
aggregate: numbers as one comma-separated text (``group_concat``, read by
``numpy.fromstring``), texts as ``json_group_array``, times as the stored texts parsed
by numpy (a tenth of the cost of SQLite's own date functions). All aggregates of one
query see the rows in the same order, so the columns stay aligned. On SQLite a large
read goes in ranges of a key's values (``block_by``), so the packed values of one
range at most are alive at once, read by two connections at once when both see the
same data (a database file, no uncommitted writes); PostgreSQL's COPY streams in blocks
of bytes anyway.

Reads run on the caller's connection, inside its transaction (SQLite's extra readers
only when nothing is uncommitted). Rows are written in bulk by
:mod:`repricer.db.bulk_write`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    DateTime,
    Engine,
    Integer,
    Select,
    String,
    Text,
    case,
    cast,
    false,
    func,
    literal,
    literal_column,
    select,
    type_coerce,
)
from sqlalchemy.sql.elements import ColumnElement

_SQLITE_BLOCK_KEYS = 250_000  # per block on SQLite: the packed texts of a block are large
_SQLITE_READERS = 2  # connections reading blocks at once on SQLite
_UNIXEPOCH = sqlite3.sqlite_version_info >= (3, 38, 0)  # unixepoch(): 4x strftime('%s')
_ORM_TIME = 26  # "YYYY-MM-DD HH:MM:SS.ffffff", as SQLAlchemy stores times in SQLite


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


def read_frame(
    conn: Connection, stmt: Select[Any], dtypes: Mapping[str, str], *, block_by: Any = None
) -> pd.DataFrame:
    """The rows of ``stmt`` as a DataFrame with one column per ``dtypes`` entry (in the
    statement's column order): ``int64``, ``Int64`` (nullable), ``bool`` (from 0/1),
    ``boolean`` (nullable), ``object`` (text) or ``epoch_us`` (a timestamp column, as
    int64 microseconds since 1970 UTC). Rows come in the statement's order, except
    that with ``block_by`` (see :func:`read_columns`) they come by block."""
    data = read_columns(conn, stmt, dtypes, block_by=block_by)
    for name, dtype in dtypes.items():  # text stays Python objects with None for NULL
        if dtype == "object":
            data[name] = pd.Series(data[name], dtype=object)
    return pd.DataFrame(data, columns=list(dtypes))


def read_columns(
    conn: Connection, stmt: Select[Any], dtypes: Mapping[str, str], *, block_by: Any = None
) -> dict[str, Any]:
    """:func:`read_frame`'s columns as separate arrays (numpy arrays; pandas arrays for
    the nullable dtypes; object arrays for text): no DataFrame, so no copy of the
    columns into one block. ``block_by``, an integer column of one of the statement's
    tables (its primary key, say), splits a large read on SQLite into ranges of its
    values (PostgreSQL streams anyway); the blocks come in no set order. A NULL in a
    non-nullable column raises ValueError."""
    names = list(dtypes)
    columns = list(stmt.subquery().c)[: len(names)]
    specs = [_Spec(n, dtypes[n], _narrow(c.type)) for n, c in zip(names, columns, strict=True)]
    if conn.dialect.name == "postgresql":
        blocks = _pg_blocks(conn, stmt, specs)
    else:
        blocks = _sqlite_blocks(conn, stmt, specs, block_by)
    parts: dict[str, list[Any]] = {name: [] for name in names}
    for block in blocks:
        for name in names:
            parts[name].append(block.pop(name))
    return {spec.name: _joined(parts.pop(spec.name), spec) for spec in specs}


@dataclass(frozen=True)
class _Spec:
    """One column to read: its name, dtype and whether it is a 32-bit integer."""

    name: str
    dtype: str
    narrow: bool


def _narrow(column_type: Any) -> bool:
    return isinstance(column_type, (Integer, Boolean)) and not isinstance(column_type, BigInteger)


def _joined(parts: list[Any], spec: _Spec) -> Any:
    if not parts:
        return _empty(spec.dtype)
    if len(parts) == 1:
        return parts[0]
    if spec.dtype in ("Int64", "boolean"):
        return pd.concat([pd.Series(p) for p in parts], ignore_index=True).array
    if spec.dtype == "object":
        return _shared(np.concatenate(parts))
    return np.concatenate(parts)


def _empty(dtype: str) -> Any:
    if dtype == "Int64":
        return pd.array([], dtype="Int64")
    if dtype == "boolean":
        return pd.array([], dtype="boolean")
    if dtype == "object":
        return np.array([], dtype=object)
    return np.array([], dtype=bool if dtype == "bool" else np.int64)


def _typed(values: npt.NDArray[np.int64], null: Any, spec: _Spec) -> Any:
    """Decoded numbers (and a null mask for the nullable dtypes) as ``spec``'s column."""
    if spec.dtype == "Int64":
        return pd.arrays.IntegerArray(values, np.asarray(null, dtype=bool))
    if spec.dtype == "boolean":
        return pd.arrays.BooleanArray(values != 0, np.asarray(null, dtype=bool))
    if spec.dtype == "bool":
        return values != 0
    return values


def _texts(document: str | list[Any] | None) -> Any:
    values = json.loads(document) if isinstance(document, str) else (document or [])
    return _shared(np.fromiter(values, dtype=object, count=len(values)))


def _shared(texts: Any) -> Any:
    """Equal texts as one object each (categories, brands, currencies repeat over a
    million rows; the driver makes a new string per row)."""
    codes, uniques = pd.factorize(texts)
    table = np.empty(len(uniques) + 1, dtype=object)
    table[: len(uniques)] = uniques
    table[-1] = None  # factorize codes NULL as -1
    return table[codes]


def _check(count: int, values: Any, name: str) -> None:
    if len(values) != count:  # the aggregates skip NULLs: the columns would misalign
        raise ValueError(f"NULL or a value of another type in the column {name!r}")


# --- SQLite: one text per column ------------------------------------------------------


def _sqlite_blocks(
    conn: Connection, stmt: Select[Any], specs: list[_Spec], block_by: Any
) -> Iterator[dict[str, Any]]:
    """The blocks of ``block_by`` ranges, read by up to :data:`_SQLITE_READERS`
    connections at once when the database is a file that they all see (the sqlite3
    module lets go of the GIL while SQLite computes, so the blocks use every core),
    in the key's order."""
    if block_by is None:
        yield _sqlite_block(conn, stmt, specs)
        return
    low, high = conn.execute(select(func.min(block_by), func.max(block_by))).one()
    if low is None:
        return
    starts = range(int(low), int(high) + 1, _SQLITE_BLOCK_KEYS)
    parts = [stmt.where(block_by >= s, block_by < s + _SQLITE_BLOCK_KEYS) for s in starts]
    readers = min(_SQLITE_READERS, len(parts)) if sqlite_seen_by_others(conn) else 1
    shares = [parts[i::readers] for i in range(readers)]
    with ThreadPoolExecutor(max_workers=max(readers - 1, 1)) as pool:
        apart = [pool.submit(_sqlite_apart, conn.engine, share, specs) for share in shares[1:]]
        done = [[_sqlite_block(conn, part, specs) for part in shares[0]]]
        done += [future.result() for future in apart]
    for at in range(len(parts)):  # in the key's order: a sorted read stays sorted
        yield done[at % readers][at // readers]


def sqlite_seen_by_others(conn: Connection) -> bool:
    """Whether another connection sees what the SQLite connection ``conn`` sees: a
    database file, and no uncommitted writes on ``conn``."""
    raw = conn.connection.driver_connection
    database = conn.engine.url.database
    in_transaction = bool(getattr(raw, "in_transaction", False))
    return database not in (None, "", ":memory:") and not in_transaction


def _sqlite_apart(engine: Engine, parts: list[Select[Any]], specs: list[_Spec]) -> list[Any]:
    with engine.connect() as conn:
        return [_sqlite_block(conn, part, specs) for part in parts]


def _sqlite_block(conn: Connection, stmt: Select[Any], specs: list[_Spec]) -> dict[str, Any]:
    row = conn.execute(_sqlite_query(stmt, specs, parse_times=True)).one()
    try:
        return _sqlite_decode(row, specs, parse_times=True)
    except _TimeFormat:  # times not all as the ORM writes them: SQLite converts them
        row = conn.execute(_sqlite_query(stmt, specs, parse_times=False)).one()
        return _sqlite_decode(row, specs, parse_times=False)


def _sqlite_query(stmt: Select[Any], specs: list[_Spec], *, parse_times: bool) -> Select[Any]:
    rows = stmt.subquery("rows")
    aggregates: list[Any] = [func.count()]
    for spec, column in zip(specs, rows.c, strict=False):
        if spec.dtype == "object":
            aggregates.append(func.json_group_array(cast(column, Text)))
        elif spec.dtype == "epoch_us":
            value = column if parse_times else epoch_us(column, "sqlite")
            aggregates.append(func.group_concat(value))
        elif spec.dtype in ("Int64", "boolean"):
            aggregates.append(func.group_concat(func.coalesce(column, 0)))
            aggregates.append(func.group_concat(column.is_(None)))
        else:
            aggregates.append(func.group_concat(column))
    return select(*aggregates)


def _sqlite_decode(row: Any, specs: list[_Spec], *, parse_times: bool) -> dict[str, Any]:
    count, values = int(row[0]), iter(row[1:])
    data: dict[str, Any] = {}
    for spec in specs:
        text = next(values)
        if spec.dtype == "object":
            data[spec.name] = _texts(text)
        elif spec.dtype == "epoch_us" and parse_times:
            data[spec.name] = _orm_times(text or "", count)
        else:
            numbers = np.fromstring(text or "", dtype=np.int64, sep=",")
            null = None
            if spec.dtype in ("Int64", "boolean"):
                null = np.fromstring(next(values) or "", dtype=np.int64, sep=",") != 0
            _check(count, numbers, spec.name)
            data[spec.name] = _typed(numbers, null, spec)
        _check(count, data[spec.name], spec.name)
    return data


class _TimeFormat(ValueError):
    """Stored times that are not all in the ORM's format."""


def _orm_times(text: str, count: int) -> npt.NDArray[np.int64]:
    """Comma-separated "YYYY-MM-DD HH:MM:SS.ffffff" texts -> epoch microseconds, parsed by
    numpy; raises _TimeFormat unless every value has exactly that shape."""
    width = _ORM_TIME + 1
    if count == 0:
        return np.array([], dtype=np.int64)
    if len(text) != count * width - 1:
        raise _TimeFormat(text[:40])
    try:
        raw = np.frombuffer((text + ",").encode("ascii"), dtype=np.uint8).reshape(count, width)
    except UnicodeEncodeError as exc:
        raise _TimeFormat(text[:40]) from exc
    shape = (raw[:, -1] == ord(",")) & (raw[:, 10] == ord(" ")) & (raw[:, 19] == ord("."))
    if not shape.all():
        raise _TimeFormat(text[:40])
    try:
        times = np.ascontiguousarray(raw[:, :-1]).view(f"S{_ORM_TIME}").ravel()
        parsed = times.astype("datetime64[us]")
    except ValueError as exc:
        raise _TimeFormat(text[:40]) from exc
    micros: npt.NDArray[np.int64] = parsed.view(np.int64)
    return micros


# --- PostgreSQL: binary COPY for numbers, binary arrays and JSON text with texts -----


def _pg_blocks(conn: Connection, stmt: Select[Any], specs: list[_Spec]) -> Iterator[dict[str, Any]]:
    raw = conn.connection.driver_connection
    assert raw is not None
    if all(spec.dtype != "object" for spec in specs):
        yield _pg_copy(conn, raw, stmt, specs)
        return
    query, widths = _pg_query(stmt, specs)
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    with raw.cursor(binary=True) as cursor:  # bytea as bytes
        cursor.execute(str(compiled), compiled.params)
        row = cursor.fetchone()
    if row is not None:
        yield _pg_decode(list(row), specs, widths)


def _pg_copy(conn: Connection, raw: Any, stmt: Select[Any], specs: list[_Spec]) -> dict[str, Any]:
    """Numbers, flags and times through a binary COPY (:mod:`repricer.db.pgcopy`); the
    nullable dtypes cross as the value or 0 plus a flag whether it is NULL."""
    from repricer.db.pgcopy import CopyField, copy_columns  # psycopg: the postgres extra

    rows = stmt.subquery("rows")
    selected: list[Any] = []
    fields: list[CopyField] = []
    for spec, column in zip(specs, rows.c, strict=False):
        value, kind = _pg_wire(column, spec)
        selected.append(value)
        fields.append(CopyField(spec.name, kind))
        if spec.dtype in ("Int64", "boolean"):
            selected.append(column.is_(None))
            fields.append(CopyField(f"{spec.name} null", "bool"))
    compiled = select(*selected).compile(
        dialect=conn.dialect, compile_kwargs={"render_postcompile": True}
    )
    data = copy_columns(raw, str(compiled), compiled.params, fields)
    return {
        spec.name: _typed(data.pop(spec.name), data.pop(f"{spec.name} null", None), spec)
        for spec in specs
    }


def _pg_wire(column: Any, spec: _Spec) -> tuple[Any, str]:
    """SQL of a number column as one fixed-width binary value (0 or false for NULL in
    the nullable dtypes, whose null marks are read apart), and its kind: ``int4``,
    ``int8``, ``bool`` or ``time`` (a timestamp as stored)."""
    if spec.dtype == "epoch_us":
        if isinstance(column.type, DateTime) or isinstance(
            getattr(column.type, "impl", None), DateTime
        ):
            return column, "time"
        return epoch_us(column, "postgresql"), "int8"
    value: Any
    if spec.dtype in ("bool", "boolean"):
        value, kind = (column if isinstance(column.type, Boolean) else column != 0), "bool"
    elif spec.narrow:
        value, kind = cast(column, Integer), "int4"
    else:
        value, kind = cast(column, BigInteger), "int8"
    if spec.dtype in ("Int64", "boolean"):
        value = func.coalesce(value, false() if kind == "bool" else 0)
    return value, kind


_SEND = {"int4": (func.int4send, 4), "int8": (func.int8send, 8), "bool": (func.boolsend, 1)}


def _pg_query(stmt: Select[Any], specs: list[_Spec]) -> tuple[Select[Any], list[int]]:
    """SQL for a statement with texts: one ``bytea`` per number column, each value
    big-endian (``int4send`` for 32-bit integers, ``int8send`` for the rest,
    ``boolsend`` for flags and null marks), one JSON array per text column; one row
    (none for no rows). Returns the query and each number's width."""
    rows = stmt.subquery("rows")
    empty: Any = literal_column("''::bytea")
    aggregates: list[Any] = [func.count()]
    widths: list[int] = []
    for spec, column in zip(specs, rows.c, strict=False):
        if spec.dtype == "object":
            aggregates.append(func.json_agg(cast(column, Text)))
            continue
        value, kind = _pg_wire(column, spec)
        if kind == "time":  # no send function gives epoch microseconds
            value, kind = epoch_us(column, "postgresql"), "int8"
        send, width = _SEND[kind]
        aggregates.append(func.string_agg(send(value), empty))
        widths.append(width)
        if spec.dtype in ("Int64", "boolean"):
            aggregates.append(func.string_agg(func.boolsend(column.is_(None)), empty))
    return select(*aggregates), widths


def _pg_decode(row: list[Any], specs: list[_Spec], widths: list[int]) -> dict[str, Any]:
    count, at, numbers = int(row[0]), 1, iter(widths)
    data: dict[str, Any] = {}
    for spec in specs:
        value, row[at] = row[at], None  # each block's bytes go once converted
        at += 1
        if spec.dtype == "object":
            data[spec.name] = _texts(value)
            _check(count, data[spec.name], spec.name)
            continue
        width = next(numbers)
        decoded = np.frombuffer(value or b"", dtype=f">i{width}" if width > 1 else np.uint8)
        _check(count, decoded, spec.name)
        null = None
        if spec.dtype in ("Int64", "boolean"):
            null, row[at] = np.frombuffer(row[at] or b"", dtype=np.uint8) != 0, None
            at += 1
        data[spec.name] = _typed(decoded.astype(np.int64), null, spec)
    return data
