"""Streaming feed parsers: a file in, ``(ref, {field: raw value})`` rows out.

``ref`` says where the row came from for row-level reports: a line number (int) or an
offer id (str); :func:`describe_ref` words it. A file that cannot be read as a whole raises :class:`InputFileError`; messy
values are left to :func:`repricer.feeds.records.build_record`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from repricer.config import SupplierSettings

RawRow = tuple[str | int, dict[str, Any]]


def describe_ref(ref: str | int) -> str:
    """``12`` -> ``"line 12"``, ``"A-1"`` -> ``"offer A-1"``."""
    return f"line {ref}" if isinstance(ref, int) else f"offer {ref}"


def iter_rows(
    path: Path, supplier: SupplierSettings, needs: tuple[set[str], ...] | None = None
) -> Iterator[RawRow]:
    """Rows of ``path`` read in the supplier's ``format``; a table's header must map a
    field of each group of ``needs`` (default: the key and the cost)."""
    if supplier.format == "yml":
        from repricer.feeds.parsers.yml import iter_yml

        return iter_yml(path, encoding=supplier.encoding)
    from repricer.feeds.parsers.table import iter_table

    return iter_table(path, supplier, needs)


__all__ = ["RawRow", "describe_ref", "iter_rows"]
