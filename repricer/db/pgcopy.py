"""Fixed-width columns of a PostgreSQL query as numpy arrays, through ``COPY ... TO
STDOUT (FORMAT binary)``.

A binary COPY costs the server little (no per-value function, no aggregate: the rows
stream out as they are found), and when every column is a number, a flag or a time
without NULLs every row has the same width: ``int16`` field count, then per field an
``int32`` length and the big-endian value. A structured numpy dtype over a block of
rows decodes them in C. The server sends one message per row, and psycopg's ``Copy``
iteration costs about 4 µs per message (several times what the server spends on the
row), so the messages are taken straight from the libpq connection in a tight loop
and joined into blocks of about :data:`_BLOCK_BYTES`; each block is decoded as it fills
(a row split between blocks waits for the next), so only one block of raw bytes is alive
at once. Every row's field count and field lengths are checked: a NULL (length -1)
raises ValueError naming the column.
"""

from __future__ import annotations

import selectors
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg import pq

_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_HEADER = len(_SIGNATURE) + 8  # then flags and the length of the header extension
_TRAILER = b"\xff\xff"  # a field count of -1
_BLOCK_BYTES = 8 << 20
_Y2K_US = 946_684_800_000_000  # PostgreSQL counts time from 2000-01-01 UTC


@dataclass(frozen=True)
class CopyField:
    """One column of the COPY: its name and binary kind: ``int4``, ``int8``, ``bool``
    or ``time`` (a ``timestamp`` or ``timestamptz``, read as microseconds since 1970
    UTC)."""

    name: str
    kind: str


_WIRE = {"int4": ">i4", "int8": ">i8", "bool": "u1", "time": ">i8"}


def copy_columns(
    raw: psycopg.Connection[Any], query: str, params: Any, fields: Sequence[CopyField]
) -> dict[str, npt.NDArray[Any]]:
    """The columns of ``query`` (SQL with psycopg placeholders, bound client side as
    COPY takes no parameters) in its row order: int64 arrays, bool for ``bool``.
    Runs on ``raw`` inside its current transaction."""
    decoder = _Decoder(fields)
    statement = f"COPY ({query}) TO STDOUT (FORMAT binary)"
    with raw.cursor() as cursor, cursor.copy(statement, params):
        # the Copy object started the COPY (and reports a failure to start)
        for block in _blocks(raw.pgconn, raw.info.encoding):
            decoder.feed(block)
    return decoder.columns()


def _blocks(pgconn: pq.abc.PGconn, encoding: str) -> Iterator[bytes]:
    """The COPY's data in blocks of whole messages; raises the server's error if the
    COPY fails on the way. A caller that stops early leaves the COPY to psycopg's
    ``Copy``, which cancels and drains it."""
    block = bytearray()
    get = pgconn.get_copy_data
    with _Readable(pgconn) as readable:
        while True:
            nbytes, data = get(1)  # 1: return 0 rather than wait (waiting holds the GIL)
            if nbytes > 0:
                block += data
                if len(block) >= _BLOCK_BYTES:
                    yield bytes(block)
                    block = bytearray()
            elif nbytes == 0:
                readable.wait()
            elif nbytes == -1:
                break
            else:
                raise psycopg.OperationalError(pgconn.get_error_message(encoding))
        _finish(pgconn, readable, encoding)  # first: a refused last block leaves nothing unread
    if block:
        yield bytes(block)


class _Readable:
    """Waits for more input on the connection's socket (``selectors``: any descriptor
    number, and the GIL let go while waiting)."""

    def __init__(self, pgconn: pq.abc.PGconn) -> None:
        self.pgconn = pgconn
        self.selector = selectors.DefaultSelector()
        self.selector.register(pgconn.socket, selectors.EVENT_READ)

    def __enter__(self) -> _Readable:
        return self

    def __exit__(self, *exc: object) -> None:
        self.selector.close()

    def wait(self) -> None:
        self.selector.select()
        self.pgconn.consume_input()


def _finish(pgconn: pq.abc.PGconn, readable: _Readable, encoding: str) -> None:
    """Read the COPY's closing results (the libpq way psycopg's own ``Copy`` would)."""
    error = None
    while True:
        while pgconn.is_busy():
            readable.wait()
        result = pgconn.get_result()
        if result is None:
            break
        if result.status != pq.ExecStatus.COMMAND_OK and error is None:
            error = psycopg.errors.error_from_result(result, encoding=encoding)
    if error is not None:
        raise error


class _Decoder:
    """Binary COPY rows of one fixed layout, decoded block by block."""

    def __init__(self, fields: Sequence[CopyField]) -> None:
        self.fields = list(fields)
        layout: list[tuple[str, str]] = [("count", ">i2")]
        for i, field in enumerate(self.fields):
            layout += [(f"length{i}", ">i4"), (f"value{i}", _WIRE[field.kind])]
        self.row = np.dtype(layout)
        self.widths = [np.dtype(_WIRE[f.kind]).itemsize for f in self.fields]
        self.pending = b""
        self.started = False
        self.parts: list[list[npt.NDArray[Any]]] = [[] for _ in self.fields]

    def feed(self, data: bytes) -> None:
        data = self.pending + data
        if not self.started:
            if len(data) < _HEADER:
                self.pending = data
                return
            data = data[self._header_length(data) :]
            self.started = True
        count = len(data) // self.row.itemsize
        rows = np.frombuffer(data, dtype=self.row, count=count)
        good = rows["count"] == len(self.fields)
        for i, width in enumerate(self.widths):
            good &= rows[f"length{i}"] == width
        if not good.all():
            self._refuse(data[int(np.argmin(good)) * self.row.itemsize :])
        for i, field in enumerate(self.fields):
            self.parts[i].append(_typed(rows[f"value{i}"], field.kind))
        self.pending = data[count * self.row.itemsize :]

    def columns(self) -> dict[str, npt.NDArray[Any]]:
        if self.pending != _TRAILER:
            self._refuse(self.pending)
        columns = {}
        for i, field in enumerate(self.fields):  # a column's blocks go once it is joined
            parts, self.parts[i] = self.parts[i], []
            columns[field.name] = _joined(parts, field.kind)
        return columns

    def _header_length(self, data: bytes) -> int:
        if not data.startswith(_SIGNATURE):
            raise ValueError("not binary COPY data")
        extension = int.from_bytes(data[_HEADER - 4 : _HEADER], "big")
        return _HEADER + extension

    def _refuse(self, data: bytes) -> NoReturn:
        """Raise for the row at the start of ``data``, naming its first field that is
        NULL or of another width."""
        count = int.from_bytes(data[:2], "big", signed=True)
        at = 2
        for field, width in zip(self.fields, self.widths, strict=True):
            length = int.from_bytes(data[at : at + 4], "big", signed=True)
            if count != len(self.fields) or length != width:
                raise ValueError(f"NULL or a value of another type in the column {field.name!r}")
            at += 4 + width
        raise ValueError("binary COPY data ends amid a row")


def _typed(values: npt.NDArray[Any], kind: str) -> npt.NDArray[Any]:
    if kind == "bool":
        flags: npt.NDArray[np.bool_] = values != 0
        return flags
    numbers = values.astype(np.int64)
    if kind == "time":
        numbers += _Y2K_US
    return numbers


def _joined(parts: list[npt.NDArray[Any]], kind: str) -> npt.NDArray[Any]:
    if not parts:
        return np.array([], dtype=bool if kind == "bool" else np.int64)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)
