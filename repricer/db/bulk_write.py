"""Rows written in bulk from columns: one sequence of values per column, converted a
column at a time, never a Python call per row and column.

:func:`write_columns` writes on the caller's connection, inside its transaction. On
PostgreSQL the rows go as ONE ``COPY ... FROM STDIN`` text stream, made a block of
:data:`_CHUNK` rows at a time (the server inserts one block while the next is made),
each field's text made a column at a time (numbers by numpy, a text escaped and a JSON
value encoded once per distinct value within the block); elsewhere as one driver-level
``executemany``, each column converted as SQLAlchemy would (JSON text, SQLite's datetime
text) once per distinct value object. A column whose rows share a few objects (the same
flags list, one timestamp) converts those few.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import JSON, Boolean, Connection, String, Table, Text

_CHUNK = 20_000  # rows made into COPY text at once on PostgreSQL
_NULL = "\\N"  # COPY's text format: NULL, and the escapes a text field needs
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def write_columns(conn: Connection, table: Table, columns: Mapping[str, Any]) -> None:
    """Insert one row per position of ``columns`` (column name -> values of equal
    length: numpy arrays, pandas arrays or Series, lists; None or a masked entry is
    NULL; JSON columns as lists/dicts): COPY FROM STDIN on PostgreSQL, one executemany
    elsewhere."""
    values = {name: _plain(column) for name, column in columns.items()}
    counts = {len(column) for column in values.values()}
    if len(counts) > 1:
        raise ValueError(f"columns of different lengths: {sorted(counts)}")
    if not counts or counts == {0}:
        return
    if conn.dialect.name == "postgresql":
        _copy_in(conn, table, values)
        return
    converted = [_driver_values(conn, table, name, column) for name, column in values.items()]
    marks = ", ".join("?" * len(values))
    conn.exec_driver_sql(
        f"INSERT INTO {table.name} ({', '.join(values)}) VALUES ({marks})",
        list(zip(*converted, strict=True)),
    )


def _plain(column: Any) -> Any:
    """A column as a numpy array (numbers without NULL), a pandas masked array (numbers
    with NULL) or a list of Python values."""
    if isinstance(column, pd.Series):
        column = column.array
    if isinstance(column, pd.arrays.NumpyExtensionArray):
        column = column.to_numpy()
    if isinstance(column, np.ndarray) and column.dtype != object:
        return column
    if isinstance(column, pd.api.extensions.ExtensionArray):
        if isinstance(column, (pd.arrays.IntegerArray, pd.arrays.BooleanArray)):
            return column
        return _objects(column)
    return list(column)


def _python(column: Any) -> list[Any]:
    """The values as Python objects, None for NULL."""
    if isinstance(column, list):
        return column
    if isinstance(column, np.ndarray):
        values: list[Any] = column.tolist()
        return values
    return _objects(column)


def _objects(column: Any) -> list[Any]:
    """An array's values as Python objects, None for its missing values."""
    values = np.asarray(column, dtype=object).copy()
    values[pd.isna(values)] = None
    plain: list[Any] = values.tolist()
    return plain


def _driver_values(conn: Connection, table: Table, name: str, column: Any) -> list[Any]:
    values = _python(column)
    processor = _processor(table, name, conn)
    return values if processor is None else _per_object(values, processor)


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


def _per_object(values: list[Any], convert: Callable[[Any], Any]) -> list[Any]:
    """``convert`` of each value but None, called once per distinct object."""
    boxed = np.empty(len(values), dtype=object)
    boxed[:] = values  # lists stay objects
    idents = np.fromiter(map(id, values), dtype=np.uint64, count=len(values))
    uniques, first, inverse = np.unique(idents, return_index=True, return_inverse=True)
    table = np.empty(len(uniques), dtype=object)
    table[:] = [None if boxed[i] is None else convert(boxed[i]) for i in first]
    converted: list[Any] = table[inverse].tolist()
    return converted


# --- PostgreSQL: COPY text, a column at a time ---------------------------------------


def _copy_in(conn: Connection, table: Table, values: dict[str, Any]) -> None:
    """One COPY, its text made and sent a block of :data:`_CHUNK` rows at a time: the
    server inserts a block (checks, indexes) while the next one is made."""
    raw = conn.connection.driver_connection
    assert raw is not None
    head = f"COPY {table.name} ({', '.join(values)}) FROM STDIN"
    count = len(next(iter(values.values())))
    with raw.cursor() as cursor, cursor.copy(head) as copy:
        for start in range(0, count, _CHUNK):
            block = [
                _copy_texts(table.c[name].type, column[start : start + _CHUNK])
                for name, column in values.items()
            ]
            copy.write("\n".join(map("\t".join, zip(*block, strict=True))) + "\n")


def _copy_texts(column_type: Any, column: Any) -> list[str]:
    """Each value's field in COPY's text format."""
    if isinstance(column, np.ndarray) and column.dtype.kind in "iub":
        return _number_texts(column, None)
    if isinstance(column, (pd.arrays.IntegerArray, pd.arrays.BooleanArray)):
        kind = bool if isinstance(column, pd.arrays.BooleanArray) else np.int64
        data = column.to_numpy(dtype=kind, na_value=kind(0))
        return _number_texts(data, np.asarray(column.isna(), dtype=bool))
    values = _python(column)
    if isinstance(column_type, (String, Text)) and not isinstance(column_type, JSON):
        return _text_fields(values)
    if isinstance(column_type, JSON):
        texts = _per_object(values, lambda value: json.dumps(value).translate(_ESCAPES))
    elif isinstance(column_type, Boolean):
        texts = _per_object(values, lambda value: "t" if value else "f")
    else:  # numbers, times: as the csv module and psycopg's text dumpers write them
        texts = _per_object(values, lambda value: str(value).translate(_ESCAPES))
    return [_NULL if text is None else text for text in texts]


def _text_fields(values: list[Any]) -> list[str]:
    """Texts escaped once per distinct text."""
    codes, uniques = pd.factorize(np.array(values, dtype=object))
    escaped = np.empty(len(uniques) + 1, dtype=object)
    escaped[: len(uniques)] = [str(text).translate(_ESCAPES) for text in uniques]
    escaped[-1] = _NULL  # factorize codes None as -1
    texts: list[str] = escaped[codes].tolist()
    return texts


def _number_texts(data: Any, null: Any) -> list[str]:
    """Integers as decimal digits, flags as t/f, NULL where ``null`` is set."""
    if data.dtype == bool:
        texts = np.array(["f", "t"], dtype=object)[data.astype(np.intp)]
    else:  # str of Python ints: a third of numpy's conversion to unicode and back
        texts = np.empty(len(data), dtype=object)
        texts[:] = list(map(str, data.astype(np.int64).tolist()))
    if null is not None:
        texts[null] = _NULL
    result: list[str] = texts.tolist()
    return result
