"""Alerts: each condition raised once (one message) and cleared (one message), through a
real SMTP server (aiosmtpd) and a loopback webhook, de-duplicated and rate-limited."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from repricer.alerts import check_alerts
from repricer.cli import app
from repricer.config import Settings
from repricer.db.engine import session_scope
from repricer.db.models import (
    AlertState,
    Competitor,
    CrawlRun,
    CrawlSiteStats,
    FeedSync,
    Listing,
    Observation,
    PriceChange,
    Product,
    PushAttempt,
    RepricingRun,
    Supplier,
)
from repricer.exceptions import ConfigError
from repricer.loopback import LoopbackServer, Request, Response
from tests.support.waiting import wait_until

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@dataclass
class Inbox:
    """Mails the local SMTP server received."""

    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def bodies(self) -> list[str]:
        texts = []
        for message in self.messages:
            part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
            texts.append(part.get_payload(decode=True).decode())
        return texts


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture
def hook(http_server: LoopbackServer) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []

    def accept(request: Request) -> Response:
        received.append(json.loads(request.body))
        return Response(200, b"{}", {"Content-Type": "application/json"})

    http_server.route("/hook", accept)
    return received


@pytest.fixture
def alert_settings(
    settings_from: Callable[[str], Settings],
    inbox: tuple[Inbox, int],
    http_server: LoopbackServer,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    port = inbox[1]
    monkeypatch.setenv(
        "REPRICER_ALERTS_OPS",
        f"mailto://127.0.0.1:{port}?from=repricer@shop.test&to=ops@shop.test&mode=insecure",
    )
    monkeypatch.setenv("REPRICER_ALERTS_HOOK", "json://" + http_server.url("/hook").split("://")[1])
    return settings_from(
        """
        [[suppliers]]
        name = "acme"
        url = "http://127.0.0.1:9/feed.yml"
        format = "yml"

        [[alerts]]
        name = "ops-mail"
        urls_env = "REPRICER_ALERTS_OPS"
        queue_waiting_after = "1h"
        min_interval = "0s"

        [[alerts]]
        name = "hook"
        urls_env = "REPRICER_ALERTS_HOOK"
        conditions = ["undercut", "push_failed"]
        min_interval = "0s"
        """
    )


def add_product(engine: Engine, sku: str = "A-1", **fields: Any) -> int:
    with session_scope(engine) as session:
        product = Product(sku=sku, title=f"Item {sku}", currency="RUB", price=100000, **fields)
        session.add(product)
        session.flush()
        return product.id


def add_change(engine: Engine, product_id: int, status: str, decided_at: datetime) -> int:
    with session_scope(engine) as session:
        run = RepricingRun(status="applied", started_at=decided_at)
        session.add(run)
        session.flush()
        change = PriceChange(
            run_id=run.id, product_id=product_id, sku="A-1", currency="RUB", old_price=100000,
            new_price=90000, floor=80000, status=status, decided_at=decided_at,
        )  # fmt: skip
        session.add(change)
        session.flush()
        return change.id


def feed_sync(engine: Engine, status: str, error: str | None = None) -> None:
    with session_scope(engine) as session:
        supplier = session.scalars(select(Supplier).where(Supplier.name == "acme")).first()
        if supplier is None:
            supplier = Supplier(name="acme")
            session.add(supplier)
            session.flush()
        session.add(FeedSync(supplier_id=supplier.id, status=status, error=error, started_at=NOW))


def crawl(engine: Engine, healthy: bool) -> None:
    with session_scope(engine) as session:
        shop = session.scalars(select(Competitor).where(Competitor.name == "beta")).first()
        if shop is None:
            shop = Competitor(name="beta", domain="beta.test")
            session.add(shop)
        run = CrawlRun(status="ok", started_at=NOW)
        session.add(run)
        session.flush()
        session.add(
            CrawlSiteStats(
                crawl_run_id=run.id, competitor_id=shop.id, ok=1, error=9, healthy=healthy
            )
        )


def observe(engine: Engine, product_id: int, price: int) -> None:
    with session_scope(engine) as session:
        shop = session.scalars(select(Competitor).where(Competitor.name == "alpha")).first()
        if shop is None:
            shop = Competitor(name="alpha", domain="alpha.test")
            session.add(shop)
            session.flush()
            session.add(
                Listing(product_id=product_id, competitor_id=shop.id, url="https://alpha.test/a1")
            )
            session.flush()
        listing = session.scalars(select(Listing).where(Listing.competitor_id == shop.id)).one()
        session.add(
            Observation(
                listing_id=listing.id, status="ok", price=price, currency="RUB", observed_at=NOW
            )
        )


def attempt(engine: Engine, change_id: int, status: str, error: str | None = None) -> None:
    with session_scope(engine) as session:
        session.add(
            PushAttempt(
                price_change_id=change_id, connector="http", status=status, price=90000, error=error
            )
        )


def check(settings: Settings, engine: Engine, minutes: int = 0) -> Any:
    return check_alerts(settings, engine, now=NOW + timedelta(minutes=minutes))


def test_each_condition_is_raised_once_and_cleared(
    alert_settings: Settings, engine: Engine, inbox: tuple[Inbox, int], hook: list[dict[str, Any]]
) -> None:
    mail, _ = inbox
    product = add_product(engine, map_price=95000)
    feed_sync(engine, "rejected", "42% of the offers are missing (limit 20%)")
    crawl(engine, healthy=False)
    waiting = add_change(engine, product, "needs_approval", NOW - timedelta(hours=5))
    observe(engine, product, 85000)  # below MAP 950 ₽
    failed = add_change(engine, product, "approved", NOW)
    attempt(engine, failed, "failed", "HTTP 500 from the shop")

    first = check(alert_settings, engine)
    raised = {
        "feed_failed:acme",
        "site_unhealthy:beta",
        "queue_waiting",
        "undercut:alpha",
        "push_failed",
    }
    assert set(first.raised) >= raised
    assert first.sent == 2  # one digest per destination
    assert len(mail.messages) == 1
    body = mail.bodies()[0]
    assert "supplier acme: feed sync rejected (42% of the offers are missing" in body
    assert "competitor beta (beta.test): the latest crawl" in body
    assert "1 price change(s) wait for approval, the oldest for 5 h" in body
    assert (
        "competitor alpha sells 1 product(s) below our floor or MAP: A-1 850 ₽ < MAP 950 ₽" in body
    )
    assert "storefront push: 1 change(s) failed to push (A-1: HTTP 500 from the shop)" in body
    assert len(hook) == 1  # the webhook only takes undercut and push_failed
    assert "undercut" in hook[0]["message"] and "push_failed" in hook[0]["message"]
    assert "feed_failed" not in hook[0]["message"]

    again = check(alert_settings, engine, minutes=5)  # nothing new: nothing sent
    assert (again.raised, again.sent, len(mail.messages), len(hook)) == ([], 0, 1, 1)

    feed_sync(engine, "ok")
    crawl(engine, healthy=True)
    with session_scope(engine) as session:
        session.get(PriceChange, waiting).status = "approved"  # type: ignore[union-attr]
    observe(engine, product, 99000)
    attempt(engine, failed, "confirmed")
    cleared = check(alert_settings, engine, minutes=10)
    assert set(cleared.cleared) >= raised
    assert len(mail.messages) == 2 and len(hook) == 2
    cleared_mail = mail.bodies()[1]
    assert "ALERT" not in cleared_mail
    for key in sorted(raised):
        assert f"] {key}" in cleared_mail
    assert "CLEARED [undercut] undercut:alpha" in hook[1]["message"]
    assert not cleared.active

    quiet = check(alert_settings, engine, minutes=15)
    assert (quiet.raised, quiet.cleared, quiet.sent) == ([], [], 0)
    assert len(mail.messages) == 2


def test_read_back_mismatch_is_a_push_alert(
    alert_settings: Settings, engine: Engine, hook: list[dict[str, Any]]
) -> None:
    change = add_change(engine, add_product(engine), "pushed", NOW)
    attempt(engine, change, "mismatch", "storefront shows 1 000 ₽, pushed 900 ₽")
    report = check(alert_settings, engine)
    assert "push_mismatch" in report.raised
    assert "storefront read-back: 1 change(s) showed another price" in hook[0]["message"]


def test_a_condition_that_comes_back_is_sent_again(
    alert_settings: Settings, engine: Engine, inbox: tuple[Inbox, int]
) -> None:
    mail, _ = inbox
    for minutes, status in ((0, "failed"), (5, "ok"), (10, "failed")):
        feed_sync(engine, status, "connection refused" if status == "failed" else None)
        check(alert_settings, engine, minutes)
    bodies = mail.bodies()
    assert len(bodies) == 3
    assert "ALERT [feed_failed]" in bodies[0] and "CLEARED [feed_failed]" in bodies[1]
    assert "ALERT [feed_failed]" in bodies[2]


def test_rate_limit_holds_news_until_the_interval_passed(
    settings_from: Callable[[str], Settings], engine: Engine, hook: list[dict[str, Any]],
    http_server: LoopbackServer, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("REPRICER_ALERTS_HOOK", "json://" + http_server.url("/hook").split("://")[1])
    settings = settings_from(
        '[[alerts]]\nname = "hook"\nurls_env = "REPRICER_ALERTS_HOOK"\nmin_interval = "30m"\n'
    )
    product = add_product(engine, map_price=95000)
    observe(engine, product, 85000)
    assert check(settings, engine).sent == 1
    change = add_change(engine, product, "approved", NOW)
    attempt(engine, change, "failed", "timeout")
    held = check(settings, engine, minutes=10)
    assert (held.sent, held.held, len(hook)) == (0, 1, 1)
    later = check(settings, engine, minutes=31)
    assert later.sent == 1 and len(hook) == 2 and "push_failed" in hook[1]["message"]
    with session_scope(engine) as session:
        states = session.scalars(select(AlertState)).all()
        assert all(s.notified_at is not None for s in states)


def test_missing_destination_variable_is_a_clear_error(
    settings_from: Callable[[str], Settings], engine: Engine
) -> None:
    settings = settings_from('[[alerts]]\nname = "ops"\nurls_env = "REPRICER_ALERTS_NOWHERE"\n')
    feed_sync(engine, "failed", "boom")
    with pytest.raises(ConfigError, match="REPRICER_ALERTS_NOWHERE"):
        check(settings, engine)


def test_cli_alerts_check(
    alert_settings: Settings, engine: Engine, inbox: tuple[Inbox, int]
) -> None:
    feed_sync(engine, "rejected", "bad feed")
    args = ["--config", str(alert_settings.config_path), "alerts", "check"]
    result = CliRunner().invoke(app, [*args, "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    assert [row["key"] for row in json.loads(result.output)] == ["feed_failed:acme"]
    assert not inbox[0].messages
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0 and "1 message(s) sent" in result.output
    assert len(inbox[0].messages) == 1


def test_the_scheduler_sends_alerts_after_the_job_that_detects_them(
    settings_from: Callable[[str], Settings],
    engine: Engine,
    hook: list[dict[str, Any]],
    http_server: LoopbackServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    from repricer.jobs import JobContext, JobFailed, JobSpec
    from repricer.scheduler import run_scheduler

    monkeypatch.setenv("REPRICER_ALERTS_HOOK", "json://" + http_server.url("/hook").split("://")[1])
    settings = settings_from(
        '[[alerts]]\nname = "hook"\nurls_env = "REPRICER_ALERTS_HOOK"\nmin_interval = "0s"\n'
    )

    def rejected_feed(_ctx: JobContext) -> str:
        feed_sync(engine, "rejected", "the price column is empty")
        raise JobFailed("feed rejected")

    stop = threading.Event()
    jobs = [JobSpec("feeds:acme", rejected_feed, timedelta(hours=1))]
    thread = threading.Thread(
        target=run_scheduler,
        args=(settings,),
        kwargs={"stop_event": stop, "jobs": jobs, "engine": engine},
    )
    thread.start()
    try:
        wait_until(lambda: hook, "the alert", timeout=30)
    finally:
        stop.set()
        thread.join(30)
    assert len(hook) == 1
    assert "supplier acme: feed sync rejected (the price column is empty)" in hook[0]["message"]
