"""Tabular price lists (CSV, XLSX) through :mod:`repricer.table_reader`.

Columns are mapped by the supplier's ``columns`` setting (``{field: "Header"}``) and
then by :data:`~repricer.feeds._aliases.FEED_ALIASES` (Артикул, Цена, Остаток, ...).
The header row is the first row that maps both the key field and the cost (for a
stock-only source: the key and the stock or availability), so title rows above the
table ("Прайс-лист на 01.01") are passed over.

A CSV file whose last record is cut (a partial download or copy) is refused whole, with
:class:`InputFileError`, before its last row is handed on: the file does not end with a
line break, a quote is left open, or the last row has fewer cells than the rows before
it. Otherwise ``P-049;8`` (cut from ``P-049;845.50``) would pass as a cost of 8.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from repricer.config import SupplierSettings
from repricer.exceptions import InputFileError
from repricer.feeds._aliases import FEED_ALIASES
from repricer.feeds.parsers import RawRow
from repricer.feeds.records import KEY_FIELDS
from repricer.table_reader import TableReader, map_header, open_table

_HEADER_SEARCH_ROWS = 30
# Groups of fields a header must map: at least one field of each group.
Needs = tuple[set[str], ...]


def iter_table(
    path: Path, supplier: SupplierSettings, needs: Needs | None = None
) -> Iterator[RawRow]:
    """Yield ``(line number, fields)``; raise InputFileError when the file cannot be read
    or has no header with a column of each group of ``needs`` (default: the key and the
    cost, what a full feed needs)."""
    reader = open_table(
        path,
        format=supplier.format,
        encoding=supplier.encoding,
        delimiter=supplier.delimiter,
        sheet=supplier.sheet,
        strict=True,
    )
    needs = needs or tuple({f} for f in sorted({KEY_FIELDS[supplier.key], "cost"}))
    mapping = _locate_header(reader, supplier, needs)
    rows = reader._rows
    assert rows is not None
    pending: tuple[int, list[Any]] | None = None
    widest = 0  # of the data rows before the last one
    for line, cells in rows:
        if not any(c not in (None, "") for c in cells):
            continue
        if pending is not None:
            widest = max(widest, len(pending[1]))
            yield _fields(pending, reader.header, mapping)
        pending = (line, cells)
    if pending is None:
        return
    last = _fields(pending, reader.header, mapping)
    if reader.format == "csv":
        key = last[1].get(KEY_FIELDS[supplier.key])
        _check_not_cut(path, pending, widest or len(reader.header), key)
    yield last


def _fields(
    row: tuple[int, list[Any]], header: list[str], mapping: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    line, cells = row
    return line, {mapping[h]: v for h, v in zip(header, cells, strict=False) if h in mapping}


def _check_not_cut(path: Path, last: tuple[int, list[Any]], widest: int, key: Any) -> None:
    line, cells = last
    if not _ends_with_line_break(path):
        reason = "the file does not end with a line break"
    elif len(cells) < widest:
        reason = f"the last row has {len(cells)} cells, the rows before it {widest}"
    else:
        return
    raise InputFileError(
        f"{reason}: the last record ({key or 'no key'}) looks cut (a partial download?); "
        "the whole file is refused",
        path=path,
        line=line,
    )


def _ends_with_line_break(path: Path) -> bool:
    with path.open("rb") as fh:
        fh.seek(0, 2)
        if fh.tell() == 0:
            return True
        fh.seek(-1, 2)
        return fh.read(1) in (b"\n", b"\r")


def _locate_header(reader: TableReader, supplier: SupplierSettings, needs: Needs) -> dict[str, str]:
    first_header = list(reader.header)
    mapping = map_header(reader.header, FEED_ALIASES, supplier.columns)
    missing = _missing(needs, mapping)
    searched = 0
    while _missing(needs, mapping):
        # The reader's own row iterator, so a shorter title row does not cut the width.
        rows = reader._rows
        found = next(rows, None) if rows is not None and searched < _HEADER_SEARCH_ROWS else None
        if found is None:
            raise InputFileError(
                f"no column for {missing} (headers: {', '.join(first_header)}); "
                "set the supplier's columns",
                path=reader.path,
                line=reader.header_line,
            )
        searched += 1
        reader.header = [_header_name(cell, i) for i, cell in enumerate(found[1])]
        reader.header_line = found[0]
        mapping = map_header(reader.header, FEED_ALIASES, supplier.columns)
    return mapping


def _missing(needs: Needs, mapping: dict[str, str]) -> str:
    """The groups ``mapping`` lacks, for the message (``"cost"``, ``"stock or available"``)."""
    found = set(mapping.values())
    return ", ".join(" or ".join(sorted(g)) for g in needs if not g & found)


def _header_name(cell: Any, index: int) -> str:
    value = "" if cell is None else str(cell).strip().lstrip("\ufeff")
    return value or f"column_{index + 1}"
