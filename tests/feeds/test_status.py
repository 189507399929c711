"""``feed_status``: last sync per supplier, its age, and whether the feed is due."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Engine

from repricer.config import Settings
from repricer.db.models import utcnow
from repricer.feeds import sync_feeds
from repricer.feeds.status import feed_status
from tests.feeds.conftest import FEEDS, supplier_toml


def test_status_age_and_due(settings_from: Callable[[str], Settings], engine: Engine) -> None:
    settings = settings_from(
        supplier_toml("alpha", str(FEEDS / "offers-utf8.yml"), every="15m")
        + supplier_toml("never", str(FEEDS / "offers-utf8.yml"))
    )
    sync_feeds(settings, engine, "alpha")
    soon, later = (
        feed_status(settings, engine, now=utcnow() + d)
        for d in (timedelta(minutes=5), timedelta(minutes=16))
    )
    alpha, never = soon
    assert (alpha["status"], alpha["seen"], alpha["offers"], alpha["available"]) == ("ok", 4, 4, 3)
    assert 290 <= alpha["age_s"] <= 310 and alpha["due"] is False
    assert later[0]["due"] is True
    assert (never["status"], never["due"], never["offers"]) == ("never", True, 0)
