"""Database: models, engine/session, bulk upsert and migrations."""

from __future__ import annotations

from repricer.db.engine import make_engine, session_scope
from repricer.db.models import Base
from repricer.db.upsert import upsert_rows

__all__ = ["Base", "make_engine", "session_scope", "upsert_rows"]
