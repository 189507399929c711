"""Engine and sessions. SQLite gets WAL, foreign keys and a busy timeout on every
connection; PostgreSQL (psycopg 3) is used by changing ``database.url``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",  # readers never block the writer (crawl + reprice at once)
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=30000",  # wait for a concurrent writer instead of failing
    "PRAGMA synchronous=NORMAL",  # safe with WAL, much faster than FULL
)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine for ``url``; ``postgresql://`` URLs use psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = create_engine(parsed, echo=echo)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()
    # SQLite's lower() folds ASCII only; searches in Cyrillic titles need Unicode case folding.
    dbapi_connection.create_function("unicode_lower", 1, _unicode_lower, deterministic=True)


def _unicode_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    factory = sessionmaker(engine, expire_on_commit=False)
    with factory() as session, session.begin():
        yield session
