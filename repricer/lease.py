"""Leases in the database: at most one process per database does a named job at a time.

A lease is one row of ``leases`` keyed by name (:data:`SCHEDULER`, :data:`PUSH`, or any
name a component picks). Taking it is a single compare-and-set ``UPDATE ... WHERE
expires_at < now OR token = mine`` (or the ``INSERT`` of a new row), so two processes
can never both hold it, on SQLite or PostgreSQL alike. While held, a daemon thread
renews it every ``ttl / 3``; a holder that dies (even ``kill -9``) stops renewing and its
lease lapses ``ttl`` after the last renewal, when the next process that asks takes it
over. A holder learns it lost the lease (:attr:`Lease.lost`, :meth:`Lease.check`) and
must stop acting when its row shows another holder's token, or when renewing fails for
another reason than a lock (a lost database) past the last renewal's expiry. A renewal
that only waits for a lock (on SQLite a write transaction longer than ``ttl``, even
one of our own) is not a loss: nobody can take the lease over while writes wait.

Times are the hosts' UTC clocks: hosts sharing a PostgreSQL database keep them in sync
(NTP), as any lease needs.

:func:`transaction_lock` is the short-lived sibling: a lock held until the current
transaction ends (PostgreSQL advisory transaction lock; on SQLite the database's write
lock), used where work must be serialised but never outlives one transaction.

    with hold_lease(engine, PUSH, ttl=settings.database.lease_ttl) as lease:
        ...
        lease.check()  # raises LeaseLostError when another process took over
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Engine, Table, delete, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from repricer.db.models import Lease as LeaseRow
from repricer.exceptions import LeaseHeldError, LeaseLostError

log = logging.getLogger(__name__)

SCHEDULER = "scheduler"
PUSH = "push"
DEFAULT_TTL = timedelta(seconds=30)
POLL_S = 1.0  # how often a waiting process asks again
_leases = cast(Table, LeaseRow.__table__)


@dataclass(frozen=True)
class LeaseHolder:
    """Who holds a lease: host, pid, since when, and until when unless renewed."""

    name: str
    host: str
    pid: int
    acquired_at: datetime
    heartbeat_at: datetime
    expires_at: datetime

    def describe(self) -> str:
        """``host web1, pid 4242, since 2026-11-27 23:10:04 UTC``."""
        return f"host {self.host}, pid {self.pid}, since {self.acquired_at:%Y-%m-%d %H:%M:%S} UTC"


def lease_holder(engine: Engine, name: str) -> LeaseHolder | None:
    """The current holder of ``name`` (None when free or lapsed)."""
    with engine.connect() as conn:
        row = conn.execute(select(_leases).where(_leases.c.name == name)).first()
    if row is None or _aware(row.expires_at) <= _now():
        return None
    return _holder(row)


class Lease:
    """One process's claim on the lease ``name``; see the module docstring.

    Use :func:`hold_lease` rather than calling :meth:`acquire`/:meth:`release` by hand.
    ``on_lost`` is called (from the heartbeat thread) when the lease is lost.
    """

    def __init__(
        self,
        engine: Engine,
        name: str,
        *,
        ttl: timedelta = DEFAULT_TTL,
        on_lost: Callable[[], None] | None = None,
    ) -> None:
        if ttl <= timedelta(0):
            raise ValueError("a lease's ttl must be positive")
        self.engine, self.name, self.ttl = engine, name, ttl
        self.token = uuid.uuid4().hex
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.lost = threading.Event()
        self.held_until: datetime | None = None
        self._on_lost = on_lost
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def try_acquire(self) -> LeaseHolder | None:
        """Take the lease if it is free or lapsed; returns None when taken, else its holder."""
        now = _now()
        expires = now + self.ttl
        values: dict[str, object] = {
            "token": self.token,
            "host": self.host[:255],
            "pid": self.pid,
            "acquired_at": now,
            "heartbeat_at": now,
            "expires_at": expires,
        }
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(_leases)
                .where(
                    _leases.c.name == self.name,
                    or_(_leases.c.expires_at < now, _leases.c.token == self.token),
                )
                .values(**values)
            ).rowcount
        if not taken:
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(_leases).values(name=self.name, **values))
            except IntegrityError:  # someone holds it (or took it a moment ago)
                with self.engine.connect() as conn:
                    row = conn.execute(select(_leases).where(_leases.c.name == self.name)).first()
                if row is not None:
                    return _holder(row)
                return self.try_acquire()  # released between our two statements
        self.held_until = expires
        self.lost.clear()
        return None

    def acquire(
        self,
        *,
        wait: float | None = 0.0,
        on_wait: Callable[[LeaseHolder], None] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        """Take the lease, waiting up to ``wait`` seconds (None: until taken or ``stop``
        is set); ``on_wait`` is told each new holder seen while waiting. Raises
        :class:`LeaseHeldError` naming the holder when the wait ends without it."""
        deadline = None if wait is None else time.monotonic() + wait
        seen: tuple[str, int, datetime] | None = None
        while True:
            holder = self.try_acquire()
            if holder is None:
                self._start_heartbeat()
                return
            if (holder.host, holder.pid, holder.acquired_at) != seen:
                seen = (holder.host, holder.pid, holder.acquired_at)
                if on_wait is not None:
                    on_wait(holder)
            left = None if deadline is None else deadline - time.monotonic()
            if (left is not None and left <= 0) or (stop is not None and stop.is_set()):
                raise LeaseHeldError(holder)
            pause = POLL_S if left is None else max(0.0, min(POLL_S, left))
            if stop is not None:
                stop.wait(pause)
            else:
                time.sleep(pause)

    def renew(self) -> bool:
        """Push the expiry ``ttl`` ahead; False when the lease is no longer ours."""
        now = _now()
        with self.engine.begin() as conn:
            renewed = conn.execute(
                update(_leases)
                .where(_leases.c.name == self.name, _leases.c.token == self.token)
                .values(heartbeat_at=now, expires_at=now + self.ttl)
            ).rowcount
        if renewed:
            self.held_until = now + self.ttl
        return bool(renewed)

    def check(self) -> None:
        """Raise :class:`LeaseLostError` unless the lease is still ours.

        Past the last renewal's expiry the lease row decides: a renewal may only be
        waiting for a lock (a long write transaction, perhaps our own), and the lease is
        lost only when the row names another holder (or is gone)."""
        if self.lost.is_set() or self.held_until is None:
            self._mark_lost()
            raise LeaseLostError(self.name)
        if self.held_until > _now():
            return
        try:
            ours = self._still_ours()
        except SQLAlchemyError as exc:
            log.warning("lease %s: could not read it back (%s)", self.name, exc)
            ours = False
        if not ours:
            self._mark_lost()
            raise LeaseLostError(self.name)

    def _still_ours(self) -> bool:
        """Whether the lease row still carries our token (a read: it never waits for
        the write lock on SQLite in WAL mode)."""
        with self.engine.connect() as conn:
            token = conn.execute(
                select(_leases.c.token).where(_leases.c.name == self.name)
            ).scalar()
        return token == self.token

    def release(self) -> None:
        """Stop renewing and free the lease (only if still ours)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        self._thread = None
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    delete(_leases).where(
                        _leases.c.name == self.name, _leases.c.token == self.token
                    )
                )
        except SQLAlchemyError as exc:  # it lapses by itself
            log.warning(
                "lease %s: could not release it (%s); it lapses in %s", self.name, exc, self.ttl
            )
        self.held_until = None

    def _start_heartbeat(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._heartbeat, name=f"lease-{self.name}", daemon=True
        )
        self._thread.start()

    def _heartbeat(self) -> None:
        interval = self.ttl.total_seconds() / 3
        while not self._stop.wait(interval):
            try:
                if not self.renew():
                    self._mark_lost()
                    return
            except SQLAlchemyError as exc:
                if self._renewal_lost(exc):
                    self._mark_lost()
                    return

    def _renewal_lost(self, exc: SQLAlchemyError) -> bool:
        """Whether a failed renewal means the lease is lost. Waiting for a lock is no
        evidence that anyone else holds it (nobody can take it over while writes wait
        either): the lease is lost only when its row shows another token. Any other
        failure (a lost database) counts once the last renewal has expired."""
        if is_lock_wait(exc):
            log.info("lease %s: renewal waits for a lock (%s)", self.name, exc)
            try:
                return not self._still_ours()
            except SQLAlchemyError:
                return False
        log.warning("lease %s: renewal failed: %s", self.name, exc)
        return self.held_until is None or self.held_until <= _now()

    def _mark_lost(self) -> None:
        if self.lost.is_set():
            return
        self.lost.set()
        log.error("lease %s lost: another process may have taken over", self.name)
        if self._on_lost is not None:
            self._on_lost()


@contextmanager
def hold_lease(
    engine: Engine,
    name: str,
    *,
    ttl: timedelta = DEFAULT_TTL,
    wait: float | None = 0.0,
    on_wait: Callable[[LeaseHolder], None] | None = None,
    on_lost: Callable[[], None] | None = None,
    stop: threading.Event | None = None,
) -> Iterator[Lease]:
    """Hold the lease ``name`` for the ``with`` block (renewed in the background,
    released at the end); see :meth:`Lease.acquire` for ``wait``/``on_wait``/``stop``."""
    lease = Lease(engine, name, ttl=ttl, on_lost=on_lost)
    lease.acquire(wait=wait, on_wait=on_wait, stop=stop)
    try:
        yield lease
    finally:
        lease.release()


def transaction_lock(conn: Connection, name: str) -> None:
    """Block until no other transaction holds the lock ``name``; held until the
    current transaction of ``conn`` commits or rolls back (a crash releases it too).

    Call it as the transaction's first statement. PostgreSQL: an advisory transaction
    lock. SQLite: takes the database's write lock (writers are serialised anyway; taking
    it first means what the transaction then reads cannot change under it).
    """
    if conn.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    else:
        conn.execute(update(_leases).where(_leases.c.name != _leases.c.name).values(pid=0))


_LOCK_STATES = {"55P03", "40P01"}  # PostgreSQL: lock_not_available, deadlock_detected


def is_lock_wait(exc: BaseException) -> bool:
    """Whether a database error only means a lock could not be had in time: SQLite's
    "database is locked" (busy timeout) or PostgreSQL's lock timeout / deadlock."""
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlstate", None) in _LOCK_STATES:
        return True
    message = str(orig).lower()
    return "database is locked" in message or "database table is locked" in message


def _holder(row: object) -> LeaseHolder:
    return LeaseHolder(
        name=row.name,  # type: ignore[attr-defined]
        host=row.host,  # type: ignore[attr-defined]
        pid=row.pid,  # type: ignore[attr-defined]
        acquired_at=_aware(row.acquired_at),  # type: ignore[attr-defined]
        heartbeat_at=_aware(row.heartbeat_at),  # type: ignore[attr-defined]
        expires_at=_aware(row.expires_at),  # type: ignore[attr-defined]
    )


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _now() -> datetime:
    return datetime.now(UTC)
