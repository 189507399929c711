"""Run Alembic migrations from the library (``repricer db upgrade`` / ``downgrade``)."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from repricer.db.engine import make_engine
from repricer.exceptions import RepricerError

# The migrations ship inside the package (repricer/db/migrations/), so an installed wheel
# can create and upgrade a database; Alembic finds them by package resource name.
MIGRATIONS = "repricer.db:migrations"
MIGRATIONS_DIR = files("repricer.db") / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config bound to ``url`` and the package's migrations folder (built here,
    so no alembic.ini is needed; the database URL never comes from a file)."""
    if not (MIGRATIONS_DIR / "env.py").is_file():
        raise RepricerError(f"{MIGRATIONS_DIR}: migrations not found (broken installation)")
    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
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
