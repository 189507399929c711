"""Columns read and rows written in bulk: the same values on SQLite and PostgreSQL,
in the statement's order, across several blocks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Table,
    Text,
    select,
)

from repricer.db import bulk_write, columnar
from repricer.db.bulk_write import write_columns
from repricer.db.columnar import epoch_us, read_columns, read_frame
from repricer.db.models import UTCDateTime


def write_rows(conn: Connection, table: Table, columns: list[str], rows: list[Any]) -> None:
    """``rows`` (tuples in ``columns`` order) written by :func:`write_columns`."""
    write_columns(conn, table, {name: [row[i] for row in rows] for i, name in enumerate(columns)})


TEXTS = ["plain", "", 'with "quotes", commas', "two\nlines", "Кабель 1,5 м", None, "x" * 300]


def _table(engine: Engine) -> Table:
    table = Table(
        "columnar_probe",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("amount", BigInteger),
        Column("flag", Boolean),
        Column("label", Text),
        Column("extra", JSON),
        Column("at", DateTime),
    )
    table.create(engine)
    return table


def test_rows_written_and_read_back_alike(
    any_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk_write, "_CHUNK", 4)  # several COPY blocks (PostgreSQL) for 20 rows
    table = _table(any_engine)
    at = datetime(2026, 3, 1, 12, 30, 15, 123456)
    tags = ["a", "b"]
    rows = [
        (i, None if i % 5 == 0 else 10**12 + i, None if i % 7 == 0 else i % 2 == 0,
         TEXTS[i % len(TEXTS)], tags if i % 2 else {}, at)
        for i in range(20, 0, -1)
    ]  # fmt: skip
    columns = ["id", "amount", "flag", "label", "extra", "at"]
    with any_engine.begin() as conn:
        write_rows(conn, table, columns, rows)
    stmt = select(table.c.id, table.c.amount, table.c.flag, table.c.label).order_by(
        table.c.id.desc()
    )
    dtypes = {"id": "int64", "amount": "Int64", "flag": "boolean", "label": "object"}
    with any_engine.connect() as conn:
        frame = read_frame(conn, stmt, dtypes)
        stored = conn.execute(select(table.c.extra, table.c.at).order_by(table.c.id)).all()
    assert list(frame["id"]) == [row[0] for row in rows]  # the statement's order
    assert [None if pd.isna(v) else int(v) for v in frame["amount"]] == [r[1] for r in rows]
    assert [None if pd.isna(v) else bool(v) for v in frame["flag"]] == [r[2] for r in rows]
    assert list(frame["label"]) == [r[3] for r in rows]
    assert [row.extra for row in stored] == [tags if i % 2 else {} for i in range(1, 21)]
    assert {row.at.replace(tzinfo=None) for row in stored} == {at}


def test_an_empty_result_has_the_columns(any_engine: Engine) -> None:
    table = _table(any_engine)
    dtypes = {"id": "int64", "amount": "Int64", "label": "object"}
    with any_engine.connect() as conn:
        frame = read_frame(conn, select(table.c.id, table.c.amount, table.c.label), dtypes)
    assert list(frame.columns) == list(dtypes) and frame.empty


def test_integer_columns_read_in_one_pass(any_engine: Engine) -> None:
    table = _table(any_engine)
    with any_engine.begin() as conn:
        write_rows(conn, table, ["id", "amount", "flag"], [(i, i * 3, True) for i in range(1, 6)])
    with any_engine.connect() as conn:
        frame = read_frame(
            conn,
            select(table.c.id, table.c.amount, table.c.flag).order_by(table.c.id),
            {"id": "int64", "amount": "int64", "flag": "bool"},
        )
    assert frame["amount"].tolist() == [3, 6, 9, 12, 15]
    assert frame["flag"].dtype == bool and frame["flag"].all()


def test_numeric_columns_read_as_arrays(any_engine: Engine) -> None:
    """All-numeric statements: wide and narrow integers, negatives and 0/1 flags come
    back exactly, rows aligned across columns."""
    table = _table(any_engine)
    rows = [(i, (-1) ** i * (2**40 + i), i % 3 == 0) for i in range(1, 30)]
    with any_engine.begin() as conn:
        write_rows(conn, table, ["id", "amount", "flag"], rows)
    stmt = select(table.c.id, table.c.amount, table.c.flag).where(table.c.id > 2)
    with any_engine.connect() as conn:
        columns = read_columns(conn, stmt, {"id": "int64", "amount": "int64", "flag": "bool"})
        empty = read_columns(conn, stmt.where(table.c.id < 0), {"id": "int64", "flag": "bool"})
    assert columns["id"].dtype == np.int64 and columns["flag"].dtype == bool
    got = sorted(zip(*(columns[n].tolist() for n in ("id", "amount", "flag")), strict=True))
    assert got == rows[2:]
    assert len(empty["id"]) == 0 and empty["flag"].dtype == bool


def test_nullable_numbers_and_times_without_texts(any_engine: Engine) -> None:
    """A statement of numbers, flags and times only: NULLs of the nullable dtypes
    kept, times exact to the microsecond."""
    table = _table(any_engine)
    at = datetime(1999, 12, 31, 23, 59, 59, 999_999)
    rows = [(i, None if i % 3 == 0 else -(2**40) * i, None if i % 4 == 0 else i % 2 == 0, at)
            for i in range(1, 13)]  # fmt: skip
    with any_engine.begin() as conn:
        write_rows(conn, table, ["id", "amount", "flag", "at"], rows)
    stmt = select(table.c.id, table.c.amount, table.c.flag, table.c.at).order_by(table.c.id)
    dtypes = {"id": "int64", "amount": "Int64", "flag": "boolean", "at": "epoch_us"}
    with any_engine.connect() as conn:
        frame = read_frame(conn, stmt, dtypes)
    assert [None if pd.isna(v) else int(v) for v in frame["amount"]] == [r[1] for r in rows]
    assert [None if pd.isna(v) else bool(v) for v in frame["flag"]] == [r[2] for r in rows]
    micros = (at - datetime(1970, 1, 1)) // timedelta(microseconds=1)
    assert frame["at"].tolist() == [micros] * len(rows)


def test_a_null_in_a_numeric_column_is_refused(any_engine: Engine) -> None:
    table = _table(any_engine)
    with any_engine.begin() as conn:
        write_rows(conn, table, ["id", "amount"], [(1, 5), (2, None), (3, 7)])
    with any_engine.connect() as conn, pytest.raises(ValueError, match="amount"):
        read_columns(conn, select(table.c.id, table.c.amount), {"id": "int64", "amount": "int64"})


@pytest.mark.parametrize("where", [0, 2, 4], ids=["first", "amid", "last"])
def test_a_null_anywhere_is_refused_naming_its_column(any_engine: Engine, where: int) -> None:
    table = _table(any_engine)
    rows = [(i + 1, None if i == where else i, "x") for i in range(5)]
    with any_engine.begin() as conn:
        write_rows(conn, table, ["id", "amount", "label"], rows)
    stmt = select(table.c.id, table.c.label, table.c.amount)
    dtypes = {"id": "int64", "label": "object", "amount": "int64"}
    with any_engine.connect() as conn, pytest.raises(ValueError, match="'amount'"):
        read_columns(conn, stmt, dtypes)


def test_int32_columns_hold_ids_and_refuse_wider_values(any_engine: Engine) -> None:
    table = _table(any_engine)
    rows = [(1, 2**31 - 1), (2, -(2**31)), (3, 7)]
    with any_engine.begin() as conn:
        write_rows(conn, table, ["id", "amount"], rows)
    stmt = select(table.c.id, table.c.amount).order_by(table.c.id)
    dtypes = {"id": "int32", "amount": "int32"}
    with any_engine.connect() as conn:
        columns = read_columns(conn, stmt, dtypes)
        empty = read_columns(conn, stmt.where(table.c.id < 0), dtypes)
    assert columns["id"].dtype == np.int32 and columns["amount"].dtype == np.int32
    assert columns["amount"].tolist() == [row[1] for row in rows]
    assert empty["id"].dtype == np.int32 and len(empty["id"]) == 0
    with any_engine.begin() as conn:
        write_rows(conn, table, ["id", "amount"], [(4, 2**31)])
    with any_engine.connect() as conn, pytest.raises(ValueError, match=r"32 bits.*'amount'"):
        read_columns(conn, stmt, dtypes)


def test_extremes_come_back_exactly(any_engine: Engine) -> None:
    """32- and 64-bit extremes, both flags, and times before 1970, before 2000 (where
    PostgreSQL counts from) and with microseconds, with and without a time zone."""
    table = Table(
        "columnar_extremes",
        MetaData(),
        Column("key", Integer, primary_key=True),
        Column("small", Integer),
        Column("big", BigInteger),
        Column("flag", Boolean),
        Column("naive", DateTime),
        Column("zoned", UTCDateTime),
    )
    table.create(any_engine)
    times = [
        datetime(1969, 7, 20, 20, 17, 40, 1),
        datetime(1999, 12, 31, 23, 59, 59, 999_999),
        datetime(2000, 1, 1),
        datetime(2026, 3, 1, 12, 30, 15, 123_456),
    ]
    smalls = [2**31 - 1, -(2**31), 0, -1]
    bigs = [2**63 - 1, -(2**63), 2**40 + 1, -1]
    rows = [
        (key, smalls[key % 4], bigs[key % 4], key % 3 == 0, times[key % 4],
         times[(key + 1) % 4].replace(tzinfo=UTC))
        for key in range(1, 13)
    ]  # fmt: skip
    names = ["key", "small", "big", "flag", "naive", "zoned"]
    with any_engine.begin() as conn:
        write_rows(conn, table, names, rows)
    dtypes = {"key": "int64", "small": "int64", "big": "int64", "flag": "bool",
              "naive": "epoch_us", "zoned": "epoch_us", "label": "object"}  # fmt: skip
    stmt = select(*table.c, table.c.small.cast(Text).label("label")).order_by(table.c.key)
    with any_engine.connect() as conn:
        columns = read_columns(conn, stmt, dtypes)

    def micros(at: datetime) -> int:
        return (at.replace(tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(
            microseconds=1
        )

    assert columns["key"].tolist() == [row[0] for row in rows]
    assert columns["small"].tolist() == [row[1] for row in rows]
    assert columns["big"].tolist() == [row[2] for row in rows]
    assert columns["flag"].tolist() == [row[3] for row in rows]
    assert columns["naive"].tolist() == [micros(row[4]) for row in rows]
    assert columns["zoned"].tolist() == [micros(row[5]) for row in rows]
    assert columns["label"].tolist() == [str(row[1]) for row in rows]


@pytest.mark.parametrize(
    "labels",
    [[None, None, None], [""], ["", None, ""], [None, "", None], ["a", None], ["", "", ""]],
    ids=["all-null", "one-empty", "empties", "one-empty-amid-nulls", "null-last", "all-empty"],
)
def test_empty_texts_and_nulls_read_apart(any_engine: Engine, labels: list[str | None]) -> None:
    """An empty text is not NULL, however few values a column has."""
    table = _table(any_engine)
    rows = [(i, label, {"n": i} if label else None) for i, label in enumerate(labels, start=1)]
    with any_engine.begin() as conn:
        write_rows(conn, table, ["id", "label", "extra"], rows)
    stmt = select(table.c.label, table.c.extra, table.c.id).order_by(table.c.id)
    with any_engine.connect() as conn:
        columns = read_columns(conn, stmt, {"label": "object", "extra": "object"})
    assert columns["label"].tolist() == labels
    assert [None if e is None else json.loads(e) for e in columns["extra"]] == [
        row[2] for row in rows
    ]


def test_a_read_in_blocks_gives_every_row_once(
    any_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks of 4 key values over ids 3..40 with gaps (ranges on SQLite, read by two
    connections at once; PostgreSQL reads in one go): each row once, its columns
    aligned, texts and NULLs kept."""
    monkeypatch.setattr(columnar, "_SQLITE_BLOCK_KEYS", 4)
    table = _table(any_engine)
    rows = [
        (i, None if i % 6 == 0 else -(10**12) * i, i % 3 == 0, TEXTS[i % len(TEXTS)])
        for i in range(3, 41)
        if i % 7
    ]
    with any_engine.begin() as conn:
        write_rows(conn, table, ["id", "amount", "flag", "label"], rows)
    stmt = select(table.c.id, table.c.amount, table.c.flag, table.c.label).where(table.c.id != 5)
    dtypes = {"id": "int64", "amount": "Int64", "flag": "bool", "label": "object"}
    with any_engine.connect() as conn:
        columns = read_columns(conn, stmt, dtypes, block_by=table.c.id)
        none = read_columns(conn, stmt.where(table.c.id > 99), dtypes, block_by=table.c.id)
    got = [
        (int(i), None if pd.isna(a) else int(a), bool(f), t)
        for i, a, f, t in zip(*(columns[n] for n in dtypes), strict=True)
    ]
    assert sorted(got) == [row for row in rows if row[0] != 5]
    if any_engine.dialect.name == "sqlite":  # two connections' ranges, in the key's order
        assert got == sorted(got)
    assert all(len(none[n]) == 0 for n in dtypes)


@pytest.mark.parametrize(
    "stored",
    [
        ["2026-03-01 12:30:15.123456", "1969-12-31 23:59:59.500000", "2026-03-01 00:00:00.000000"],
        ["2026-03-01 12:30:15.123456", "2026-03-01 12:30:15", "2026-03-01 12:30:15.5"],
        ["2026-03-01 12:30:15.999999"],
    ],
    ids=["orm-format", "other-formats", "one"],
)
def test_sqlite_times_read_as_epoch_microseconds(engine: Engine, stored: list[str]) -> None:
    """Times as the ORM writes them are parsed by numpy; any other shape falls back to
    SQLite's conversion: the same microseconds either way."""
    table = _table(engine)
    with engine.begin() as conn:
        for i, text in enumerate(stored, start=1):
            conn.exec_driver_sql("INSERT INTO columnar_probe (id, at) VALUES (?, ?)", (i, text))
    with engine.connect() as conn:
        stmt = select(table.c.id, table.c.at).order_by(table.c.id)
        columns = read_columns(conn, stmt, {"id": "int64", "at": "epoch_us"})
    epoch = datetime(1970, 1, 1)
    expected = []
    for text in stored:
        whole, _, fraction = text.partition(".")
        at = datetime.fromisoformat(whole) + timedelta(microseconds=int(fraction.ljust(6, "0")))
        expected.append((at - epoch) // timedelta(microseconds=1))
    assert columns["at"].tolist() == expected


def test_times_read_as_epoch_microseconds_on_postgres(pg_engine: Engine) -> None:
    table = _table(pg_engine)
    at = datetime(2026, 3, 1, 12, 30, 15, 123456)
    with pg_engine.begin() as conn:
        write_rows(conn, table, ["id", "at"], [(1, at), (2, at - timedelta(days=20000))])
    with pg_engine.connect() as conn:
        stmt = select(table.c.at).order_by(table.c.id)
        columns = read_columns(conn, stmt, {"at": "epoch_us"})
    micro = timedelta(microseconds=1)
    epoch = datetime(1970, 1, 1)
    assert columns["at"].tolist() == [
        (at - epoch) // micro,
        (at - timedelta(days=20000) - epoch) // micro,
    ]


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 3, 1, 12, 0, 0, 999_999),  # SQLite's own functions round to ms
        datetime(2026, 3, 1, 12, 0, 0, 999_500),
        datetime(2026, 3, 1, 12, 0, 0, 999_000),
        datetime(2026, 3, 1, 12, 0, 59, 998_999),
        datetime(2026, 3, 1, 12, 0, 0, 1),
        datetime(2026, 3, 1, 12, 0, 0),
        datetime(1969, 12, 31, 23, 59, 59, 500_000),
    ],
    ids=["999999us", "999500us", "999000us", "998999us", "1us", "whole", "before-1970"],
)
def test_epoch_microseconds_are_exact(any_engine: Engine, at: datetime) -> None:
    table = _table(any_engine)
    with any_engine.begin() as conn:
        write_rows(conn, table, ["id", "at"], [(1, at)])
    with any_engine.connect() as conn:
        stmt = select(epoch_us(table.c.at, any_engine.dialect.name))
        micros = conn.execute(stmt).scalar_one()
    assert micros == (at.replace(tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(
        microseconds=1
    )


def test_sqlite_times_are_written_as_the_orm_writes_them(engine: Engine) -> None:
    table = Table(
        "columnar_times",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("at", UTCDateTime),
    )
    table.create(engine)
    at = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
    with engine.begin() as conn:
        write_rows(conn, table, ["id", "at"], [(1, at)])
        conn.execute(table.insert().values(id=2, at=at))  # through SQLAlchemy
        stored = conn.exec_driver_sql("SELECT at FROM columnar_times ORDER BY id").scalars().all()
    assert stored == ["2026-03-01 12:30:15.123456"] * 2


def test_empty_and_null_texts_are_written_apart(any_engine: Engine) -> None:
    table = _table(any_engine)
    rows = [(1, "", 5), (2, None, 6), (3, "a", 7)]
    with any_engine.begin() as conn:
        write_rows(conn, table, ["id", "label", "amount"], rows)
        write_rows(conn, table, ["id", "label", "amount"], [(4, None, 8), (5, "b", None)])
        stored = conn.execute(
            select(table.c.id, table.c.label, table.c.amount).order_by(table.c.id)
        )
        assert [tuple(row) for row in stored] == [*rows, (4, None, 8), (5, "b", None)]


def test_columns_of_arrays_written_as_given(any_engine: Engine) -> None:
    """numpy and pandas masked arrays as they come from the engine, texts that COPY's
    text format escapes, JSON shared by rows."""
    table = _table(any_engine)
    labels = ["tab\there", "back\\slash\\N", "\\N", "", None, "cr\rlf\n"]
    shared = ["price_floor"]
    columns = {
        "id": np.arange(1, 7, dtype=np.int64),
        "amount": pd.array([5, None, -(2**40), 0, None, 7], dtype="Int64"),
        "flag": pd.array([True, None, False, True, False, None], dtype="boolean"),
        "label": pd.Series(labels, dtype=object),
        "extra": [shared, {"k": "a\\b"}, shared, None, [], shared],
    }
    with any_engine.begin() as conn:
        write_columns(conn, table, columns)
        stored = conn.execute(
            select(table.c.amount, table.c.flag, table.c.label, table.c.extra).order_by(table.c.id)
        ).all()
    assert [row.amount for row in stored] == [5, None, -(2**40), 0, None, 7]
    assert [row.flag for row in stored] == [True, None, False, True, False, None]
    assert [row.label for row in stored] == labels
    assert [row.extra for row in stored] == [shared, {"k": "a\\b"}, shared, None, [], shared]


def test_blocks_read_inside_a_writing_transaction_see_its_rows(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows not yet committed are read on the writing connection alone (another
    connection would not see them)."""
    monkeypatch.setattr(columnar, "_SQLITE_BLOCK_KEYS", 4)
    table = _table(engine)
    with engine.begin() as conn:
        write_rows(conn, table, ["id", "amount"], [(i, i * 2) for i in range(1, 30)])
        got = read_columns(
            conn, select(table.c.id, table.c.amount), {"id": "int64", "amount": "int64"},
            block_by=table.c.id,
        )  # fmt: skip
    assert sorted(got["id"].tolist()) == list(range(1, 30))
