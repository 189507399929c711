"""Streaming reader for CSV and XLSX tables (catalogs, listings, supplier price lists).

Encoding and delimiter are detected when not given: UTF-8 (with or without BOM), else
cp1251; ``;``, ``,`` or tab. Rows are yielded one at a time with their line number
(the spreadsheet row for XLSX), so memory stays flat whatever the file size.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from repricer.exceptions import InputFileError

_SNIFF_BYTES = 64 * 1024
_DELIMITERS = ";,\t|"


@dataclass
class TableReader:
    """Iterate to get ``(line_number, {header: value})``; ``header`` is filled on open."""

    path: Path
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    strict: bool = False  # CSV: a quote left open at the end of the file is an error
    header: list[str] = field(default_factory=list)
    header_line: int = 0
    _rows: Iterator[tuple[int, list[Any]]] | None = field(default=None, repr=False)

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        assert self._rows is not None, "use open_table()"
        width = len(self.header)
        for line, cells in self._rows:
            if not any(c not in (None, "") for c in cells):
                continue
            if len(cells) < width:
                cells = [*cells, *([None] * (width - len(cells)))]
            yield line, dict(zip(self.header, cells, strict=False))


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    with path.open("rb") as fh:
        return "xlsx" if fh.read(4) == b"PK\x03\x04" else "csv"


def open_table(
    path: Path | str,
    *,
    format: str | None = None,
    encoding: str = "auto",
    delimiter: str | None = None,
    sheet: str | None = None,
    strict: bool = False,
) -> TableReader:
    """Open a CSV or XLSX file and read its header row.

    Raises :class:`InputFileError` for a missing, unreadable or header-less file; with
    ``strict``, also for malformed CSV quoting (a quote still open at the end of a cut file).
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError("file not found", path=path)
    fmt = format or detect_format(path)
    reader = TableReader(path, fmt, sheet=sheet, strict=strict)
    rows = _xlsx_rows(reader) if fmt == "xlsx" else _csv_rows(reader, encoding, delimiter)
    for line, cells in rows:
        if sum(1 for c in cells if c not in (None, "")) >= 1:
            reader.header = [_header_name(c, i) for i, c in enumerate(cells)]
            reader.header_line = line
            break
    else:
        raise InputFileError("no header row found (the file is empty)", path=path)
    reader._rows = rows
    return reader


def detect_encoding(sample: bytes) -> str:
    """``utf-8-sig`` for a BOM, ``utf-8`` when the sample decodes, else ``cp1251``."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1251"


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the same, largest number of cells."""
    lines = [ln for ln in text.splitlines()[:20] if ln.strip()]
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=_DELIMITERS).delimiter
    except csv.Error:
        counts = {d: lines[0].count(d) if lines else 0 for d in _DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _csv_rows(
    reader: TableReader, encoding: str, delimiter: str | None
) -> Iterator[tuple[int, list[Any]]]:
    raw = reader.path.open("rb")
    sample = raw.read(_SNIFF_BYTES)
    raw.seek(0)
    reader.encoding = detect_encoding(sample) if encoding == "auto" else encoding
    try:
        codecs.lookup(reader.encoding)
    except LookupError:
        raw.close()
        raise InputFileError(f"unknown encoding {reader.encoding!r}", path=reader.path) from None
    text_sample = sample.decode(reader.encoding, errors="replace")
    reader.delimiter = delimiter or sniff_delimiter(text_sample)
    stream = io.TextIOWrapper(raw, encoding=reader.encoding, newline="")
    return _csv_iter(reader, stream)


def _csv_iter(reader: TableReader, stream: IO[str]) -> Iterator[tuple[int, list[Any]]]:
    with stream:
        rows = csv.reader(stream, delimiter=reader.delimiter or ",", strict=reader.strict)
        try:
            for cells in rows:
                yield rows.line_num, [c.strip() for c in cells]
        except UnicodeDecodeError as exc:
            raise InputFileError(
                f"not valid {reader.encoding} text ({exc.reason}); set the encoding explicitly",
                path=reader.path,
                line=rows.line_num + 1,
            ) from None
        except csv.Error as exc:
            raise InputFileError(
                f"malformed CSV: {exc}", path=reader.path, line=rows.line_num
            ) from None


def _xlsx_rows(reader: TableReader) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(reader.path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken zip/xml
        raise InputFileError(f"not a readable XLSX file: {exc}", path=reader.path) from None
    try:
        ws = book[reader.sheet] if reader.sheet else book.worksheets[0]
    except KeyError:
        book.close()
        raise InputFileError(f"no sheet named {reader.sheet!r}", path=reader.path) from None
    return _xlsx_iter(book, ws)


def _xlsx_iter(book: Any, ws: Any) -> Iterator[tuple[int, list[Any]]]:
    try:
        for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
            yield number, [c.strip() if isinstance(c, str) else c for c in row]
    finally:
        book.close()


def _header_name(cell: Any, index: int) -> str:
    text = "" if cell is None else str(cell).strip().lstrip("\ufeff")
    return text or f"column_{index + 1}"


def map_header(
    header: list[str], aliases: Mapping[str, str], explicit: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Map file headers to canonical field names.

    ``explicit`` is ``{field: "Header in file"}`` from config and wins; otherwise a
    header matches when its lower-cased text is a key of ``aliases`` (``{"артикул": "sku"}``).
    Returns ``{header_in_file: field}``.
    """
    mapping: dict[str, str] = {}
    lowered = {h.strip().lower(): h for h in header}
    for field_name, column in (explicit or {}).items():
        if column.strip().lower() in lowered:
            mapping[lowered[column.strip().lower()]] = field_name
    taken = set(mapping.values())
    for h in header:
        canonical = aliases.get(h.strip().lower())
        if h not in mapping and canonical and canonical not in taken:
            mapping[h] = canonical
            taken.add(canonical)
    return mapping
