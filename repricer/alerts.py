"""Alerts that reach people: conditions read from the database, sent through Apprise.

Conditions (``[[alerts]] conditions``), each with a key naming what it is about:

- ``feed_failed``: a supplier's latest feed sync was rejected or failed;
- ``site_unhealthy``: a competitor's latest crawl marked the site unhealthy;
- ``queue_waiting``: a price change has waited for approval longer than
  ``queue_waiting_after``;
- ``undercut``: a competitor's latest trusted price is below our floor or MAP
  (a possible price war or MAP breach), one key per competitor;
- ``push_failed``: changes whose latest push failed, or whose read-back showed another
  price than pushed.

De-duplication: ``alert_states`` keeps one row per (destination, key); a condition is
sent once when it is raised and (with ``notify_cleared``) once when it clears, never
again while it stays raised. Rate limit: a destination gets at most one message per
``min_interval``; what is new meanwhile waits and goes out together in the next
message. The scheduler calls :func:`check_alerts` after every job; ``repricer alerts
check`` calls it by hand. Destinations are Apprise URLs (mailto://, json://, tgram://,
slack://, ...) read from the environment variable ``urls_env``, never from the config.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, and_, func, select

from repricer.config import AlertSettings, Settings, get_secret
from repricer.db.models import AlertState, FeedSync, PriceChange, RepricingRun, Supplier, utcnow
from repricer.durations_percentages import format_duration
from repricer.exceptions import ConfigError
from repricer.health import competitor_health, storefront_health, undercut_rows
from repricer.money import format_money
from repricer.review import PENDING

log = logging.getLogger(__name__)
SAMPLE = 5
_alerts = cast(Table, AlertState.__table__)
Sender = Callable[[Sequence[str], str, str], bool]


@dataclass(frozen=True)
class Condition:
    """One raised condition: ``key`` is ``condition:subject``, unique per destination."""

    condition: str
    key: str
    message: str


@dataclass
class AlertReport:
    """What one check did: raised and cleared keys, messages sent and held back."""

    raised: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)
    sent: int = 0
    held: int = 0
    active: list[ActiveAlert] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{len(self.active)} alert(s) active, {len(self.raised)} raised, "
            f"{len(self.cleared)} cleared, {self.sent} message(s) sent, {self.held} held back"
        )


@dataclass(frozen=True)
class ActiveAlert:
    destination: str
    condition: str
    key: str
    message: str
    raised_at: datetime
    notified: bool

    def as_row(self) -> dict[str, Any]:
        return dict(self.__dict__)


def detect(
    settings: Settings, engine: Engine, *, queue_after: Any, now: datetime
) -> list[Condition]:
    """Every condition that holds now (``queue_after``: the queue-waiting threshold)."""
    with engine.connect() as conn:
        found = _feed_failures(conn, settings)
        found += _queue_waiting(conn, queue_after, now)
        found += _undercuts(conn)
    found += [
        Condition(
            "site_unhealthy",
            f"site_unhealthy:{c['name']}",
            f"competitor {c['name']} ({c['domain']}): the latest crawl (run {c['crawl_run_id']}) "
            f"was unhealthy: {c['ok']} ok, {c['no_price']} without price, {c['error']} errors, "
            f"{c['anomaly']} anomalies; its prices are ignored",
        )
        for c in competitor_health(engine)
        if c["healthy"] is False
    ]
    return found + _push_problems(engine)


def _feed_failures(conn: Connection, settings: Settings) -> list[Condition]:
    latest = select(func.max(FeedSync.id)).group_by(FeedSync.supplier_id)
    query = (
        select(Supplier.name, FeedSync.status, FeedSync.started_at, FeedSync.error)
        .join(Supplier, Supplier.id == FeedSync.supplier_id)
        .where(FeedSync.id.in_(latest), FeedSync.status.in_(("rejected", "failed")))
    )
    configured = {s.name for s in settings.suppliers}
    return [
        Condition(
            "feed_failed",
            f"feed_failed:{name}",
            f"supplier {name}: feed sync {status} ({error or 'no reason given'}); "
            "the previous data is kept",
        )
        for name, status, _started, error in conn.execute(query)
        if not configured or name in configured
    ]


def _queue_waiting(conn: Connection, after: Any, now: datetime) -> list[Condition]:
    reviewed = select(RepricingRun.id).where(RepricingRun.status != "dry_run")
    waiting = and_(PriceChange.status.in_(PENDING), PriceChange.run_id.in_(reviewed))
    count, oldest = conn.execute(
        select(func.count(), func.min(PriceChange.decided_at)).where(waiting)
    ).one()
    if not count or oldest is None:
        return []
    oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=now.tzinfo)
    if now - oldest <= after:
        return []
    return [
        Condition(
            "queue_waiting",
            "queue_waiting",
            f"{count} price change(s) wait for approval, the oldest for "
            f"{format_duration(now - oldest)} (more than {format_duration(after)})",
        )
    ]


def _undercuts(conn: Connection) -> list[Condition]:
    by_competitor: dict[str, list[Any]] = {}
    for row in undercut_rows(conn):
        by_competitor.setdefault(row.competitor, []).append(row)
    conditions = []
    for competitor, rows in sorted(by_competitor.items()):
        shown = "; ".join(
            f"{r.sku} {format_money(r.price, r.currency)} < {r.bound_name} "
            f"{format_money(r.bound, r.currency)}"
            for r in rows[:SAMPLE]
        )
        more = f" and {len(rows) - SAMPLE} more" if len(rows) > SAMPLE else ""
        conditions.append(
            Condition(
                "undercut",
                f"undercut:{competitor}",
                f"competitor {competitor} sells {len(rows)} product(s) below our floor or "
                f"MAP: {shown}{more}",
            )
        )
    return conditions


def _push_problems(engine: Engine) -> list[Condition]:
    store = storefront_health(engine)
    found = []
    for status, what in (("failed", "failed to push"), ("mismatch", "showed another price")):
        count = store["failed" if status == "failed" else "mismatch"]
        if not count:
            continue
        sample = [p for p in store["problems"] if p["status"] == status][:SAMPLE]
        detail = "; ".join(f"{p['sku']}: {p['error'] or status}" for p in sample)
        key = "push_failed" if status == "failed" else "push_mismatch"
        label = "push" if status == "failed" else "read-back"
        found.append(
            Condition(
                "push_failed", key, f"storefront {label}: {count} change(s) {what} ({detail})"
            )
        )
    return found


def check_alerts(
    settings: Settings,
    engine: Engine,
    *,
    send: bool = True,
    now: datetime | None = None,
    sender: Sender | None = None,
) -> AlertReport:
    """Evaluate every ``[[alerts]]`` destination, record raised and cleared conditions,
    and (with ``send``) send each destination one message with what is new, unless it
    got one less than ``min_interval`` ago. Raises ConfigError when a destination's
    environment variable is missing or holds a URL Apprise does not know."""
    now = now or utcnow()
    report = AlertReport()
    for destination in settings.alerts:
        found = detect(settings, engine, queue_after=destination.queue_waiting_after, now=now)
        chosen = [c for c in found if c.condition in destination.conditions]
        news = _record(engine, destination, chosen, now, report)
        if send and news:
            _send(engine, destination, news, now, report, sender or deliver)
        report.active += _active(engine, destination.name)
    return report


def _record(
    engine: Engine,
    destination: AlertSettings,
    found: list[Condition],
    now: datetime,
    report: AlertReport,
) -> list[AlertState]:
    """Upsert the states of ``destination``; returns the rows with something to send."""
    current = {c.key: c for c in found}
    with engine.begin() as conn:
        rows = _states(conn, destination.name)
        for key, condition in current.items():
            _raise(conn, destination.name, rows.get(key), condition, now, report)
        for key, row in rows.items():
            if row["cleared_at"] is None and key not in current:
                _clear(conn, row, now, destination.notify_cleared, report)
        pending = _states(conn, destination.name)
    return [_as_state(r) for r in pending.values() if _unsent(r, destination.notify_cleared)]


def _states(conn: Connection, destination: str) -> dict[str, dict[str, Any]]:
    table = _alerts
    query = select(table).where(table.c.destination == destination)
    return {r["key"]: dict(r) for r in conn.execute(query).mappings()}


def _raise(
    conn: Connection,
    destination: str,
    row: dict[str, Any] | None,
    condition: Condition,
    now: datetime,
    report: AlertReport,
) -> None:
    table = _alerts
    values = {"condition": condition.condition, "message": condition.message, "seen_at": now}
    if row is None:
        conn.execute(
            table.insert().values(
                destination=destination, key=condition.key, raised_at=now, **values
            )
        )
        report.raised.append(condition.key)
        return
    if row["cleared_at"] is not None:  # raised again after it had cleared
        values |= {"raised_at": now, "notified_at": None, "cleared_at": None}
        values |= {"clear_notified_at": None}
        report.raised.append(condition.key)
    conn.execute(table.update().where(table.c.id == row["id"]).values(**values))


def _clear(
    conn: Connection, row: dict[str, Any], now: datetime, notify: bool, report: AlertReport
) -> None:
    table = _alerts
    values: dict[str, Any] = {"cleared_at": now}
    if row["notified_at"] is None or not notify:  # never announced: nothing to take back
        values["clear_notified_at"] = now
    conn.execute(table.update().where(table.c.id == row["id"]).values(**values))
    report.cleared.append(row["key"])


def _unsent(row: dict[str, Any], notify_cleared: bool) -> bool:
    if row["cleared_at"] is None:
        return row["notified_at"] is None
    return notify_cleared and row["clear_notified_at"] is None


def _as_state(row: dict[str, Any]) -> AlertState:
    return AlertState(**row)


def _send(
    engine: Engine,
    destination: AlertSettings,
    news: list[AlertState],
    now: datetime,
    report: AlertReport,
    sender: Sender,
) -> None:
    table = _alerts
    with engine.connect() as conn:
        last = conn.execute(
            select(func.max(func.coalesce(table.c.clear_notified_at, table.c.notified_at))).where(
                table.c.destination == destination.name
            )
        ).scalar()
    if last is not None:
        last = last if last.tzinfo else last.replace(tzinfo=now.tzinfo)
        if now - last < destination.min_interval:
            report.held += len(news)
            return
    title, body = compose(news)
    if not sender(destination_urls(destination), title, body):
        log.warning("alerts %s: delivery failed; will retry at the next check", destination.name)
        report.held += len(news)
        return
    report.sent += 1
    with engine.begin() as conn:
        for row in news:
            column = "notified_at" if row.cleared_at is None else "clear_notified_at"
            conn.execute(table.update().where(table.c.id == row.id).values({column: now}))


def compose(news: Sequence[AlertState]) -> tuple[str, str]:
    """(title, body) of one message listing raised then cleared conditions."""
    raised = [r for r in news if r.cleared_at is None]
    cleared = [r for r in news if r.cleared_at is not None]
    parts = []
    if raised:
        title = f"repricer: {len(raised)} alert(s): {raised[0].message[:80]}"
    else:
        title = f"repricer: {len(cleared)} alert(s) cleared"
    parts += [f"ALERT [{r.condition}] {r.message}" for r in raised]
    parts += [f"CLEARED [{r.condition}] {r.key}" for r in cleared]
    return title, "\n".join(parts)


def destination_urls(destination: AlertSettings) -> list[str]:
    """The Apprise URLs in the destination's environment variable (space/comma separated)."""
    text = get_secret(destination.urls_env)
    return [u for u in re.split(r"[\s,]+", text) if u]


def deliver(urls: Sequence[str], title: str, body: str) -> bool:
    """Send through Apprise; ConfigError for a URL it does not understand."""
    import apprise

    notifier = apprise.Apprise()
    for url in urls:
        if not notifier.add(url):
            scheme = url.split("://", 1)[0]
            raise ConfigError(f"alert destination: Apprise does not understand a {scheme}:// URL")
    return bool(notifier.notify(title=title, body=body))


def _active(engine: Engine, destination: str) -> list[ActiveAlert]:
    with engine.connect() as conn:
        rows = _states(conn, destination).values()
    return [
        ActiveAlert(
            destination, r["condition"], r["key"], r["message"], r["raised_at"],
            r["notified_at"] is not None,
        )
        for r in rows
        if r["cleared_at"] is None
    ]  # fmt: skip


def check_after_job(settings: Settings, engine: Engine, job_id: str) -> None:
    """What the scheduler runs after each job: check and send, never raising."""
    if not settings.alerts:
        return
    try:
        report = check_alerts(settings, engine)
    except Exception:  # an alert must never take the scheduler down
        log.exception("alerts after %s failed", job_id)
        return
    if report.raised or report.cleared or report.sent:
        log.info("alerts after %s: %s", job_id, report)
