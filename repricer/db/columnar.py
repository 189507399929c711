"""Whole query results as columns, without a Python object per row in between.

:func:`read_columns` and :func:`read_frame` read a SELECT into one array per column.
Each column crosses as ONE aggregate, the database packing the column's values into one
value that the client turns into an array in C. On PostgreSQL a number, flag or time
column is one ``bytea`` of fixed-width big-endian values from the type's own binary
send function (``int4send``, ``int8send``, ``boolsend``, ``timestamptz_send``: no
formatting, and far less work for both sides than a COPY's message per row), and a text
column one ``bytea`` of its values joined by NUL bytes (which no PostgreSQL text holds),
with one ``bytea`` of null marks beside each nullable or text column; the values are
taken from libpq's result one column at a time. On SQLite numbers are one
comma-separated text (``group_concat``, read by ``numpy.fromstring``), texts a
``json_group_array``, and times the stored texts parsed by numpy (a tenth of the cost of
SQLite's own date functions). All aggregates of one query see the rows in the same
order, so the columns stay aligned; a column with fewer values than rows (a NULL where
its dtype allows none) raises ValueError naming it. On SQLite a large read goes in
ranges of a key's values (``block_by``), so the packed values of one range at most are
alive at once, read by two connections at once when both see the same data (a database
file, no uncommitted writes).

Reads run on the caller's connection, inside its transaction (SQLite's extra readers
only when nothing is uncommitted). Rows are written in bulk by
:mod:`repricer.db.bulk_write`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
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
    statement's column order): ``int64``, ``int32`` (half the memory, for ids: a value
    beyond 32 bits raises ValueError), ``Int64`` (nullable), ``bool`` (from 0/1),
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
    values (PostgreSQL reads in one go); the blocks come in no set order. A NULL in a
    non-nullable column raises ValueError."""
    names = list(dtypes)
    columns = list(stmt.subquery().c)[: len(names)]
    specs = [_Spec(n, dtypes[n], _narrow(c.type)) for n, c in zip(names, columns, strict=True)]
    if conn.dialect.name == "postgresql":
        blocks: Iterable[dict[str, Any]] = [_pg_block(conn, stmt, specs)]
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
    return np.array([], dtype={"bool": bool, "int32": np.int32}.get(dtype, np.int64))


def _typed(values: npt.NDArray[np.int64], null: Any, spec: _Spec) -> Any:
    """Decoded numbers (and a null mask for the nullable dtypes) as ``spec``'s column."""
    if spec.dtype == "Int64":
        return pd.arrays.IntegerArray(values, np.asarray(null, dtype=bool))
    if spec.dtype == "boolean":
        return pd.arrays.BooleanArray(values != 0, np.asarray(null, dtype=bool))
    if spec.dtype == "bool":
        return values != 0
    if spec.dtype == "int32" and values.dtype != np.int32:  # int4 values are in range
        if len(values) and not (_INT32.min <= values.min() and values.max() <= _INT32.max):
            raise ValueError(f"a value beyond 32 bits in the column {spec.name!r}")
        return values.astype(np.int32, copy=False)
    return values


_INT32 = np.iinfo(np.int32)


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


# --- PostgreSQL: one bytea per column, taken from the result a column at a time ---


def _pg_block(conn: Connection, stmt: Select[Any], specs: list[_Spec]) -> dict[str, Any]:
    raw = conn.connection.driver_connection
    assert raw is not None
    query, columns = _pg_query(stmt, specs)
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    with raw.cursor(binary=True) as cursor:
        cursor.execute(str(compiled), compiled.params)
        result = cursor.pgresult
        assert result is not None and result.ntuples == 1  # an aggregate: one row
        # each value is taken from libpq's result as it is decoded (a bytes copy of all
        # at once would hold every column twice)
        values = (result.get_value(0, column) for column in range(result.nfields))
        count = int.from_bytes(next(values) or b"", "big")
        data = {
            spec.name: _pg_column(values, spec, code, count, raw.info.encoding)
            for spec, code in zip(specs, columns, strict=True)
        }
    return data


_Y2K_US = 946_684_800_000_000  # PostgreSQL's times count from 2000-01-01 UTC
_BYTEA: Any = literal_column("''::bytea")
_NUL: Any = literal_column("'\\x00'::bytea")  # never inside a text: PostgreSQL refuses NUL in text


def _pg_query(stmt: Select[Any], specs: list[_Spec]) -> tuple[Select[Any], list[str]]:
    """SQL for ``stmt`` as one row: the row count, then per column one ``bytea``: a
    number, flag or time column's values big-endian and fixed-width (the types' own
    binary send functions; 0 for NULL in the nullable dtypes), a text column's non-NULL
    values joined by NUL bytes; and after a nullable or text column one ``bytea`` of
    null marks. Returns the query and each column's numpy code (``"text"`` for texts,
    ``"time"`` for a timestamp as stored: microseconds since 2000)."""
    rows = stmt.subquery("rows")
    aggregates: list[Any] = [func.int8send(func.count())]
    codes: list[str] = []
    for spec, column in zip(specs, rows.c, strict=False):
        if spec.dtype == "object":
            send, code = func.textsend(cast(column, Text)), "text"
            aggregates.append(func.string_agg(send, _NUL))
        else:
            send, code = _pg_send(column, spec)
            aggregates.append(func.string_agg(send, _BYTEA))
        codes.append(code)
        if spec.dtype in ("Int64", "boolean", "object"):
            aggregates.append(func.string_agg(func.boolsend(column.is_(None)), _BYTEA))
    return select(*aggregates), codes


def _pg_send(column: Any, spec: _Spec) -> tuple[Any, str]:
    """SQL of a number column as its fixed-width binary value (0 or false for NULL in
    the nullable dtypes, whose null marks are read apart), and its numpy code, or
    ``"time"`` for a timestamp as stored (big-endian microseconds since 2000)."""
    if spec.dtype == "epoch_us":
        zoned = getattr(column.type, "timezone", None)
        if zoned is None:
            zoned = getattr(getattr(column.type, "impl", None), "timezone", None)
        if zoned is None:  # not a timestamp column: converted by the server
            return func.int8send(epoch_us(column, "postgresql")), ">i8"
        send = func.timestamptz_send if zoned else func.timestamp_send
        return send(column), "time"
    value: Any
    if spec.dtype in ("bool", "boolean"):
        value = column if isinstance(column.type, Boolean) else column != 0
        null: Any = false()
        send, code = func.boolsend, "u1"
    elif spec.narrow:
        value, null, send, code = cast(column, Integer), 0, func.int4send, ">i4"
    else:
        value, null, send, code = cast(column, BigInteger), 0, func.int8send, ">i8"
    if spec.dtype in ("Int64", "boolean"):
        value = func.coalesce(value, null)
    return send(value), code


def _pg_column(
    values: Iterator[bytes | None], spec: _Spec, code: str, count: int, encoding: str
) -> Any:
    """One column (and its null marks) from the next values of the result."""
    packed = next(values)
    null = None
    if spec.dtype in ("Int64", "boolean", "object"):
        null = np.frombuffer(next(values) or b"", dtype=np.uint8) != 0
        _check(count, null, spec.name)
    if code == "text":
        return _pg_texts(packed, null, spec.name, encoding)
    numbers = np.frombuffer(packed or b"", dtype=">i8" if code == "time" else code)
    _check(count, numbers, spec.name)  # a NULL (skipped) where none is allowed
    numbers = numbers.astype(np.int32 if code == ">i4" and spec.dtype == "int32" else np.int64)
    if code == "time":
        numbers += _Y2K_US
    return _typed(numbers, null, spec)


def _pg_texts(joined: bytes | None, null: Any, name: str, encoding: str) -> Any:
    """A text column from its non-NULL values joined by NUL bytes, None where ``null``."""
    present = ~null
    values = joined.decode(encoding).split("\x00") if joined is not None else []
    if len(values) != int(present.sum()):  # cannot be: a text holds no NUL byte
        raise ValueError(f"the texts of the column {name!r} do not match their rows")
    column = np.full(len(null), None, dtype=object)
    column[present] = _shared(np.fromiter(values, dtype=object, count=len(values)))
    return column
