"""Tabular price lists (CSV, XLSX) through :mod:`repricer.tabular`.

Columns are mapped by the supplier's ``columns`` setting (``{field: "Header"}``) and
then by :data:`~repricer.feeds._aliases.FEED_ALIASES` (Артикул, Цена, Остаток, ...).
The header row is the first row that maps both the key field and the cost, so title
rows above the table ("Прайс-лист на 01.01") are passed over.
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


def iter_table(path: Path, supplier: SupplierSettings) -> Iterator[RawRow]:
    """Yield ``(line number, fields)``; raise InputFileError when the file cannot be read
    or has no header naming the key column and the cost column."""
    reader = open_table(
        path,
        format=supplier.format,
        encoding=supplier.encoding,
        delimiter=supplier.delimiter,
        sheet=supplier.sheet,
    )
    mapping = _locate_header(reader, supplier)
    for line, cells in reader:
        yield line, {mapping[h]: v for h, v in cells.items() if h in mapping}


def _locate_header(reader: TableReader, supplier: SupplierSettings) -> dict[str, str]:
    required = {KEY_FIELDS[supplier.key], "cost"}
    first_header = list(reader.header)
    mapping = map_header(reader.header, FEED_ALIASES, supplier.columns)
    missing = ", ".join(sorted(required - set(mapping.values())))
    searched = 0
    while not required <= set(mapping.values()):
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


def _header_name(cell: Any, index: int) -> str:
    value = "" if cell is None else str(cell).strip().lstrip("\ufeff")
    return value or f"column_{index + 1}"
