"""Bulk upsert for SQLite and PostgreSQL (``INSERT ... ON CONFLICT DO UPDATE``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import islice
from typing import Any

from sqlalchemy import Connection, FromClause
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

# SQLite allows 32766 bound parameters per statement; stay well under for wide rows.
_MAX_PARAMS = 30000


def upsert_rows(
    conn: Connection | Session,
    table: FromClause,
    rows: Iterable[Mapping[str, Any]],
    key: Sequence[str],
    update: Sequence[str] | None = None,
) -> int:
    """Insert ``rows`` into ``table``, updating ``update`` columns where ``key`` exists.

    All rows must have the same keys. ``update=None`` updates every non-key column;
    ``update=()`` only inserts new rows. Returns the number of rows sent.
    """
    rows_iter = iter(rows)
    first = next(rows_iter, None)
    if first is None:
        return 0
    columns = list(first)
    bind = conn.get_bind() if isinstance(conn, Session) else conn
    insert: Any = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[bind.dialect.name]
    updates = [c for c in columns if c not in key] if update is None else list(update)
    batch_size = max(1, _MAX_PARAMS // max(1, len(columns)))
    sent = 0
    pending: list[Mapping[str, Any]] = [first]
    while True:
        pending.extend(islice(rows_iter, batch_size - len(pending)))
        if not pending:
            return sent
        stmt: Any = insert(table).values(pending)
        if updates:
            stmt = stmt.on_conflict_do_update(
                index_elements=list(key), set_={c: stmt.excluded[c] for c in updates}
            )
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(key))
        conn.execute(stmt)
        sent += len(pending)
        pending = []
