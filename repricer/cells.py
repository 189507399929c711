"""Spreadsheet-safe text: no cell we write can be read as a formula.

Excel, LibreOffice and Google Sheets run a cell that starts with ``=``, ``+``, ``-``
or ``@`` (and some read a leading tab or carriage return the same way) as a formula,
so a product title like ``=HYPERLINK(...)`` from a feed or a competitor page would
become live in a report. :func:`safe_text` prefixes such text with an apostrophe,
the spreadsheet convention for "this is text"; numbers we write are passed as numbers
and never touched. :func:`unsafe_text` undoes it when we read our own files back.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def safe_text(value: str) -> str:
    """``"=1+1"`` -> ``"'=1+1"``; text that cannot start a formula is returned as is
    (so is text we already quoted: ``"'=1"`` stays)."""
    if value.startswith(FORMULA_STARTS):
        return QUOTE + value
    return value


def safe_cell(value: Any) -> Any:
    """:func:`safe_text` for strings; numbers, dates, None and the rest pass unchanged."""
    return safe_text(value) if isinstance(value, str) else value


def unsafe_text(value: str) -> str:
    """Undo :func:`safe_text`: ``"'=1+1"`` -> ``"=1+1"``; anything else unchanged."""
    if value.startswith(QUOTE) and value[1:2] and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value
