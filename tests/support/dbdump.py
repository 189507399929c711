"""Every row of every table, for "the database is exactly as before" assertions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from repricer.db import Base


def dump_tables(engine: Engine, *, skip: tuple[str, ...] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """``{table: rows}`` for each table of the schema not in ``skip``, rows in key order."""
    dump: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in skip:
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            dump[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
    return dump


def all_text(engine: Engine) -> str:
    """Every value of every table as one string, to search for what must not be stored."""
    return "\n".join(repr(rows) for rows in dump_tables(engine).values())
