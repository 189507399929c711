"""Is the database there, reachable and migrated? If not, one line saying what to run.

Every command that uses the database checks it first (``repricer.cli``), so a missing
SQLite file, a server that does not answer or a schema older than this version gives
one line and exit 1, never a traceback (and never an empty SQLite file created by
accident).
"""

from __future__ import annotations

from pathlib import Path

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import DBAPIError

from repricer.db.migrate import head_revision
from repricer.db.models import Base
from repricer.exceptions import DatabaseError


def check_database(engine: Engine) -> None:
    """Raise :class:`DatabaseError` unless the database exists, answers and is at the
    latest schema revision."""
    url = engine.url
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite":
        path = url.database or ""
        if path and path != ":memory:" and not path.startswith("file:") and not Path(path).exists():
            raise DatabaseError(
                f"database file {path} does not exist: run `repricer db upgrade` to create it "
                "(or `repricer init` to set up a new folder)"
            )
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
            tables = set(inspect(conn).get_table_names())
    except DBAPIError as exc:
        raise DatabaseError(
            f"cannot reach the database {shown}: {describe_db_error(exc)} "
            "(check [database] url and that the server is running)"
        ) from None
    if current is None:
        # A schema made without Alembic (Base.metadata.create_all) is fine when complete.
        missing = sorted(set(Base.metadata.tables) - tables)
        if not missing:
            return
        what = (
            "has no tables yet"
            if len(missing) == len(Base.metadata.tables)
            else (f"lacks table(s) {', '.join(missing[:3])}")
        )
        raise DatabaseError(f"database {shown} {what}: run `repricer db upgrade`")
    head = head_revision(url.render_as_string(hide_password=False))
    if current != head:
        raise DatabaseError(
            f"database {shown} is at schema revision {current}, this version needs {head}: "
            "run `repricer db upgrade`"
        )


def describe_db_error(exc: BaseException) -> str:
    """The driver's own message, first line only."""
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else type(orig).__name__
