"""Leases: one holder at a time, a dead holder taken over, a stalled holder told it lost.

Every test runs on SQLite and on PostgreSQL (the same rows and compare-and-set
statements on both).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, Engine, event, select, text, update

from repricer.db.models import Lease as LeaseRow
from repricer.exceptions import LeaseHeldError, LeaseLostError
from repricer.lease import Lease, hold_lease, lease_holder, transaction_lock
from tests.support.waiting import wait_until

SHORT = timedelta(seconds=1)


def test_second_holder_is_refused_naming_the_first(any_engine: Engine) -> None:
    with hold_lease(any_engine, "push") as first:
        holder = lease_holder(any_engine, "push")
        assert holder is not None
        assert (holder.host, holder.pid) == (socket.gethostname(), os.getpid())
        with pytest.raises(LeaseHeldError) as err:
            Lease(any_engine, "push").acquire(wait=0)
        message = str(err.value)
        assert f"pid {os.getpid()}" in message
        assert socket.gethostname() in message
        assert "since" in message
        first.check()
    assert lease_holder(any_engine, "push") is None
    with hold_lease(any_engine, "push"):  # free again after release
        pass


def test_different_names_do_not_block_each_other(any_engine: Engine) -> None:
    with hold_lease(any_engine, "push"), hold_lease(any_engine, "scheduler"):
        assert lease_holder(any_engine, "push") is not None
        assert lease_holder(any_engine, "scheduler") is not None


def test_a_lapsed_lease_is_taken_over(any_engine: Engine) -> None:
    dead = Lease(any_engine, "scheduler", ttl=SHORT)
    assert dead.try_acquire() is None  # taken, and never renewed: its holder "died"
    assert Lease(any_engine, "scheduler").try_acquire() is not None
    taker = Lease(any_engine, "scheduler", ttl=SHORT)
    taker.acquire(wait=30)  # waits for the lapse, then takes it
    try:
        holder = lease_holder(any_engine, "scheduler")
        assert holder is not None
        assert not dead.renew()  # the old holder finds out it is no longer the holder
        with pytest.raises(LeaseLostError):
            dead.check()
    finally:
        taker.release()


def _renewed_past_first_expiry(engine: Engine, name: str) -> Callable[[], bool]:
    """True once the holder's heartbeat comes after the expiry it first got: the lease
    outlived its ttl only by being renewed."""
    with engine.connect() as conn:
        first = conn.execute(select(LeaseRow.expires_at).where(LeaseRow.name == name)).scalar_one()

    def renewed() -> bool:
        with engine.connect() as conn:
            beat = conn.execute(select(LeaseRow.heartbeat_at).where(LeaseRow.name == name))
            return bool(beat.scalar_one() > first)

    return renewed


def test_heartbeat_keeps_the_lease_past_its_ttl(any_engine: Engine) -> None:
    with hold_lease(any_engine, "push", ttl=SHORT) as lease:
        wait_until(_renewed_past_first_expiry(any_engine, "push"), "a heartbeat past the ttl")
        lease.check()
        with pytest.raises(LeaseHeldError):
            Lease(any_engine, "push").acquire(wait=0)


def test_holder_learns_it_lost_the_lease(any_engine: Engine) -> None:
    lost = threading.Event()
    with hold_lease(any_engine, "push", ttl=SHORT, on_lost=lost.set) as lease:
        with any_engine.begin() as conn:  # another process took it over
            conn.execute(update(LeaseRow).values(token="someone-else"))
        assert lost.wait(30)
        with pytest.raises(LeaseLostError):
            lease.check()


def test_a_waiter_takes_the_lease_when_released(any_engine: Engine) -> None:
    seen = []
    got = threading.Event()
    first = Lease(any_engine, "push")
    first.acquire()

    def wait_for_it() -> None:
        with hold_lease(any_engine, "push", wait=None, on_wait=seen.append):
            got.set()

    waiter = threading.Thread(target=wait_for_it)
    waiter.start()
    wait_until(lambda: seen, "the waiter to see the holder")
    assert seen[0].pid == os.getpid()
    assert not got.is_set()
    first.release()
    waiter.join(60)
    assert got.is_set()


def test_a_waiter_stops_waiting_when_told(any_engine: Engine) -> None:
    stop = threading.Event()
    with hold_lease(any_engine, "scheduler"):
        stop.set()
        with pytest.raises(LeaseHeldError):
            Lease(any_engine, "scheduler").acquire(wait=None, stop=stop)


def test_transaction_lock_serialises_read_modify_write(any_engine: Engine) -> None:
    with any_engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (n INTEGER)"))
        conn.execute(text("INSERT INTO counter VALUES (0)"))
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            with any_engine.begin() as conn:
                transaction_lock(conn, "bump")
                n = conn.execute(text("SELECT n FROM counter")).scalar_one()
                time.sleep(0.3)  # the other thread tries to get in here
                conn.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    with any_engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 3


_HOLDER = """
import sys, time
from datetime import timedelta
from repricer.db import make_engine
from repricer.lease import hold_lease
with hold_lease(make_engine(sys.argv[1]), "scheduler", ttl=timedelta(seconds=2)):
    print("held", flush=True)
    time.sleep(600)
"""


def test_sigkilled_holder_is_taken_over(any_engine: Engine) -> None:
    url = any_engine.url.render_as_string(hide_password=False)
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        holder = lease_holder(any_engine, "scheduler")
        assert holder is not None and holder.pid == child.pid
        wait_until(_renewed_past_first_expiry(any_engine, "scheduler"), "the child's heartbeat")
        assert Lease(any_engine, "scheduler").try_acquire() is not None  # still its lease
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
        with hold_lease(any_engine, "scheduler", wait=60):  # once the dead one's row lapses
            holder = lease_holder(any_engine, "scheduler")
            assert holder is not None and holder.pid == os.getpid()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def _short_lock_waits(engine: Engine) -> None:
    """New connections of ``engine`` give up waiting for a lock after 0.1 s, so a
    renewal fails with "database is locked" (SQLite) or a lock timeout (PostgreSQL)."""
    pragma = (
        "SET lock_timeout = '100ms'"
        if engine.dialect.name == "postgresql"
        else "PRAGMA busy_timeout = 100"
    )

    def impatient(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute(pragma)
        cursor.close()

    event.listen(engine, "connect", impatient)
    engine.dispose()


def _hold_lease_row_lock(conn: Connection) -> None:
    """Lock what a renewal writes until ``conn``'s transaction ends: SQLite's write lock
    (as a long applied run does, through transaction_lock) or the lease row."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(LeaseRow.token).with_for_update())
    else:
        transaction_lock(conn, "apply")


def test_a_long_write_transaction_is_no_lease_loss(
    any_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    _short_lock_waits(any_engine)
    lost = threading.Event()
    caplog.set_level(logging.INFO, logger="repricer.lease")
    with hold_lease(any_engine, "push", ttl=SHORT, on_lost=lost.set) as lease:
        with any_engine.begin() as conn:  # held for several ttls, in our own process
            _hold_lease_row_lock(conn)
            started = datetime.now(UTC)
            wait_until(
                lambda: (
                    lease.held_until is not None
                    and lease.held_until < datetime.now(UTC) - 2 * SHORT
                    and datetime.now(UTC) - started > 3 * SHORT
                ),
                "the last renewal to expire well before the transaction ends",
            )
            assert any("waits for a lock" in r.getMessage() for r in caplog.records)
            assert not lost.is_set()
            lease.check()  # past its expiry, the row still names us: not lost
        wait_until(
            lambda: lease.held_until is not None and lease.held_until > datetime.now(UTC),
            "a renewal once the lock is free",
        )
        assert not lost.is_set()
        lease.check()
        with pytest.raises(LeaseHeldError):
            Lease(any_engine, "push").acquire(wait=0)
