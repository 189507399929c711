"""Shared fixtures: a migrated SQLite DB, config files, a PostgreSQL cluster, HTTP servers."""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, make_url, text

from repricer.config import Settings, load_settings
from repricer.db import Base, make_engine
from repricer.loopback import LoopbackServer
from tests.support.postgres import find_pg_bin, throwaway_cluster

# No per-example deadline: the machines tests run on are shared and noisy, and a slow
# example is not a wrong one.
hypothesis_settings.register_profile("repricer", deadline=None)
hypothesis_settings.load_profile("repricer")

FIXTURES = Path(__file__).parent / "fixtures"
PROJECT_ROOT = Path(__file__).parent.parent


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's REPRICER_* variables must not leak into tests.
    import os

    for key in list(os.environ):
        if key.startswith("REPRICER_"):
            monkeypatch.delenv(key)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'repricer.db'}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An empty SQLite database with the full schema (create_all; migrations are tested apart)."""
    eng = make_engine(db_url)
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def write_config(tmp_path: Path, db_url: str) -> Callable[[str], Path]:
    """Write a config.toml in tmp_path (``[database] url`` pointing at ``db_url`` is
    prepended unless the text has its own ``[database]``); returns its path."""

    def write(text: str = "") -> Path:
        body = textwrap.dedent(text)
        if "[database]" not in body:
            body = f'[database]\nurl = "{db_url}"\n\n' + body
        path = tmp_path / "config.toml"
        path.write_text(body, encoding="utf-8")
        return path

    return write


@pytest.fixture
def settings_from(write_config: Callable[[str], Path]) -> Callable[[str], Settings]:
    def make(text: str = "") -> Settings:
        return load_settings(write_config(text))

    return make


@pytest.fixture
def http_server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as server:
        yield server


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A throwaway PostgreSQL database; skipped (visibly) only where no server binaries exist."""
    if find_pg_bin() is None:
        pytest.skip("no PostgreSQL server binaries on this machine (apt-get install -y postgresql)")
    with throwaway_cluster() as url:
        yield url


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    """An empty PostgreSQL database of this test's own (in the session's cluster) with
    the full schema, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:8]}"
    admin = make_engine(pg_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    eng = make_engine(make_url(pg_url).set(database=name).render_as_string(hide_password=False))
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))  # CLI tests leave pools open
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest) -> Engine:
    """The ``engine`` (SQLite) or ``pg_engine`` (PostgreSQL) fixture: one test, both databases."""
    name = "engine" if request.param == "sqlite" else "pg_engine"
    eng: Engine = request.getfixturevalue(name)
    return eng
