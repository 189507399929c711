"""Run Alembic migrations from the library (``repricer db upgrade`` / ``downgrade``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from repricer.db.engine import make_engine
from repricer.exceptions import RepricerError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config bound to ``url`` and the project's migrations folder."""
    if not (MIGRATIONS_DIR / "env.py").exists():
        raise RepricerError(
            f"{MIGRATIONS_DIR}: migrations not found (install repricer from its source tree)"
        )
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> str | None:
    """Migrate the database at ``url`` up to ``revision``; returns the new revision."""
    command.upgrade(alembic_config(url), revision)
    return current_revision(url)


def downgrade(url: str, revision: str = "-1") -> str | None:
    """Migrate down to ``revision`` (``base`` empties the schema)."""
    command.downgrade(alembic_config(url), revision)
    return current_revision(url)


def current_revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def check_current(url: str) -> None:
    """Raise a RepricerError telling the user to migrate when the DB is not at head."""
    current, head = current_revision(url), head_revision(url)
    if current != head:
        raise RepricerError(
            f"database {url} is at revision {current or 'empty'}, expected {head}: run `repricer db upgrade`"
        )
