"""The scheduler in compressed time: no overlapping runs, recovery after a failing job,
requested jobs chained after success, restart behaviour, and SIGTERM on a real process."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner

from repricer.cli import app
from repricer.config import Settings
from repricer.db import session_scope
from repricer.db.models import JobRun
from repricer.jobs import JobContext, JobFailed, JobSpec, NoNews
from repricer.loopback import LoopbackServer, Request, Response
from repricer.scheduler import list_jobs, run_scheduler
from tests.support.waiting import wait_until

FAST = '[scheduler]\nreprice_debounce = "0.3s"\nmisfire_grace = "5s"\n'


def runs(engine: Engine, job_id: str | None = None) -> list[JobRun]:
    with session_scope(engine) as session:
        stmt = select(JobRun).order_by(JobRun.id)
        if job_id:
            stmt = stmt.where(JobRun.job_id == job_id)
        return list(session.scalars(stmt))


@pytest.fixture
def start_scheduler(engine: Engine) -> Iterator[Callable[..., threading.Event]]:
    threads: list[tuple[threading.Thread, threading.Event]] = []

    def start(settings: Settings, jobs: list[JobSpec], speed: float = 1.0) -> threading.Event:
        stop = threading.Event()
        thread = threading.Thread(
            target=run_scheduler,
            args=(settings,),
            kwargs={"stop_event": stop, "speed": speed, "jobs": jobs, "engine": engine},
        )
        thread.start()
        threads.append((thread, stop))
        return stop

    yield start
    for thread, stop in threads:
        stop.set()
        thread.join(30)
        assert not thread.is_alive(), "scheduler did not stop"


def test_slow_job_never_overlaps_itself(
    engine: Engine,
    settings_from: Callable[[str], Settings],
    start_scheduler: Callable[..., threading.Event],
) -> None:
    active, overlaps = [0], [0]
    lock = threading.Lock()

    def slow(_ctx: JobContext) -> str:
        with lock:
            active[0] += 1
            overlaps[0] += active[0] > 1
        time.sleep(0.7)
        with lock:
            active[0] -= 1
        return "done"

    # every 15 min at speed 3000 = every 0.3 s, while each run takes 0.7 s
    stop = start_scheduler(
        settings_from(FAST), [JobSpec("slow", slow, timedelta(minutes=15))], 3000
    )
    wait_until(lambda: len([r for r in runs(engine, "slow") if r.status == "ok"]) >= 3)
    stop.set()
    wait_until(lambda: all(r.status != "running" for r in runs(engine)))
    # a run due while stopping is recorded as aborted without running
    done = [r for r in runs(engine, "slow") if r.status != "aborted"]
    assert overlaps[0] == 0
    for before, after in itertools.pairwise(done):
        assert before.finished_at is not None
        assert before.finished_at <= after.started_at
    assert {r.status for r in done} == {"ok"}


def test_failing_job_is_recorded_and_scheduler_recovers(
    engine: Engine,
    settings_from: Callable[[str], Settings],
    start_scheduler: Callable[..., threading.Event],
) -> None:
    calls = [0]

    def flaky(_ctx: JobContext) -> str:
        calls[0] += 1
        if calls[0] == 1:
            raise RuntimeError("supplier host unreachable")
        if calls[0] == 2:
            raise JobFailed("feed rejected: 40% of known items missing")
        return f"call {calls[0]}"

    followed: list[str] = []

    def follow(ctx: JobContext) -> str:
        followed.append("x")
        return "followed"

    jobs = [
        JobSpec("flaky", flaky, timedelta(seconds=0.3), then=("follow",)),
        JobSpec("follow", follow),
    ]
    start_scheduler(settings_from(FAST), jobs)
    wait_until(lambda: len(runs(engine, "follow")) >= 1 and len(runs(engine, "flaky")) >= 4)
    flaky_runs = runs(engine, "flaky")
    assert [r.status for r in flaky_runs[:4]] == ["failed", "failed", "ok", "ok"]
    assert flaky_runs[0].detail == "RuntimeError: supplier host unreachable"
    assert flaky_runs[1].detail == "feed rejected: 40% of known items missing"
    assert flaky_runs[2].detail == "call 3"
    # the follow-up is debounced: several successes inside 0.3 s give one run, not one each
    wait_until(lambda: runs(engine, "follow")[-1].status == "ok")
    assert len(runs(engine, "follow")) < len([r for r in runs(engine, "flaky") if r.status == "ok"])


def test_a_request_while_the_job_runs_is_retried_not_lost(
    engine: Engine,
    settings_from: Callable[[str], Settings],
    start_scheduler: Callable[..., threading.Event],
) -> None:
    active, overlaps = [0], [0]

    def slow(_ctx: JobContext) -> str:
        active[0] += 1
        overlaps[0] += active[0] > 1
        time.sleep(0.5)
        active[0] -= 1
        return "pushed"

    jobs = [
        JobSpec("sync", lambda _c: "changed", timedelta(seconds=0.2), then=("push",)),
        JobSpec("push", slow, debounced=False),
    ]
    stop = start_scheduler(settings_from(FAST), jobs)
    wait_until(lambda: len([r for r in runs(engine, "push") if r.status == "ok"]) >= 3)
    stop.set()
    assert overlaps[0] == 0


def test_a_run_with_no_news_requests_no_follow_up(
    engine: Engine,
    settings_from: Callable[[str], Settings],
    start_scheduler: Callable[..., threading.Event],
) -> None:
    # Both jobs run once at start; "news" ends after "quiet" and requests its follow-up
    # with a longer debounce, so had "quiet" requested one, it would have run first.
    quiet_done = threading.Event()

    def quiet(_ctx: JobContext) -> NoNews:
        quiet_done.set()
        return NoNews("not modified")

    def news(_ctx: JobContext) -> str:
        assert quiet_done.wait(30)
        return "changed"

    jobs = [
        JobSpec("quiet", quiet, timedelta(hours=1), then=("follow",)),
        JobSpec("news", news, timedelta(hours=1), then=("control",)),
        JobSpec("follow", lambda _c: "followed", debounce=timedelta(seconds=0.1)),
        JobSpec("control", lambda _c: "followed", debounce=timedelta(seconds=1)),
    ]
    start_scheduler(settings_from(FAST), jobs)
    wait_until(lambda: [r.status for r in runs(engine, "control")] == ["ok"], "the control")
    assert runs(engine, "follow") == []
    assert runs(engine, "quiet")[0].detail == "not modified"


def test_restart_replaces_jobs_and_closes_stale_runs(
    engine: Engine,
    settings_from: Callable[[str], Settings],
    start_scheduler: Callable[..., threading.Event],
) -> None:
    settings = settings_from(FAST)
    with session_scope(engine) as session:
        session.add(JobRun(job_id="old", status="running"))
    stop = threading.Event()
    first = threading.Thread(
        target=run_scheduler,
        args=(settings,),
        kwargs={
            "stop_event": stop,
            "jobs": [JobSpec("old", lambda _c: "x", timedelta(hours=1))],
            "engine": engine,
        },
    )
    first.start()
    wait_until(lambda: runs(engine, "old")[-1].status == "ok")
    stop.set()
    first.join(30)
    start_scheduler(settings, [JobSpec("new", lambda _c: "y", timedelta(hours=1))])
    wait_until(lambda: bool(runs(engine, "new")) and runs(engine, "new")[-1].status == "ok")
    assert runs(engine, "old")[0].status == "interrupted"
    with engine.connect() as conn:
        ids = conn.execute(text("SELECT id FROM apscheduler_jobs")).scalars().all()
    assert ids == ["new"]


def test_list_jobs_shows_config_jobs_next_run_and_last_result(
    engine: Engine, settings_from: Callable[[str], Settings], tmp_path: Path
) -> None:
    feed = tmp_path / "feed.csv"
    feed.write_text("sku;cost;stock\nA;10;1\n", encoding="utf-8")
    settings = settings_from(
        f"""
        [[suppliers]]
        name = "acme"
        path = "{feed}"
        format = "csv"

        [[competitors]]
        name = "shop"
        domain = "127.0.0.1"
        every = "6h"
        """
    )
    with session_scope(engine) as session:
        session.add(JobRun(job_id="feeds:acme", status="failed", detail="boom"))
    rows = {r["job"]: r for r in list_jobs(settings, engine)}
    assert set(rows) == {
        "feeds:acme", "crawl:shop", "reprice", "push", "review:expire", "db:prune"
    }  # fmt: skip
    assert rows["feeds:acme"]["every"] == "15 min"
    assert rows["feeds:acme"]["last_status"] == "failed"
    assert rows["crawl:shop"]["next_run"] is None
    result = CliRunner().invoke(
        app, ["--config", str(settings.config_path), "schedule", "list", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert {r["job"] for r in json.loads(result.output)} == set(rows)


def slow_feed(started: threading.Event) -> Callable[[Request], Response]:
    def handler(_req: Request) -> Response:
        started.set()
        time.sleep(2.5)
        return Response(
            200, "sku;cost;stock\nA-1;100;5\n".encode("cp1251"), {"Content-Type": "text/csv"}
        )

    return handler


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_sigterm_lets_the_running_job_finish_and_exits_0(
    engine: Engine,
    write_config: Callable[[str], Path],
    http_server: LoopbackServer,
    signum: signal.Signals,
) -> None:
    started = threading.Event()
    http_server.route("/feed.csv", slow_feed(started))
    config = write_config(
        f"""
        [[suppliers]]
        name = "slowpoke"
        url = "{http_server.url("/feed.csv")}"
        format = "csv"
        columns = {{ sku = "sku", cost = "cost", stock = "stock" }}
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPRICER_")}
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "repricer"), "--config", str(config), "schedule", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert started.wait(30), "the feed sync never started"
        proc.send_signal(signum)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, output.decode()
    done = runs(engine, "feeds:slowpoke")
    assert [r.status for r in done] == ["ok"], [(r.status, r.detail) for r in done]
    with engine.connect() as conn:
        statuses = conn.execute(text("SELECT status FROM feed_syncs")).scalars().all()
    assert statuses and "running" not in statuses


def explode(_ctx: JobContext) -> str:
    raise ConnectionError("storefront unreachable")


def test_scheduler_runs_on_postgresql(
    pg_engine: Engine, settings_from: Callable[[str], Settings]
) -> None:
    engine = pg_engine
    stop = threading.Event()
    jobs = [
        JobSpec("tick", lambda _c: "tock", timedelta(seconds=0.3)),
        JobSpec("boom", explode, timedelta(seconds=0.3)),
    ]
    thread = threading.Thread(
        target=run_scheduler,
        args=(settings_from(FAST),),
        kwargs={"stop_event": stop, "jobs": jobs, "engine": engine},
    )
    thread.start()
    try:
        wait_until(lambda: len(runs(engine, "tick")) >= 2 and len(runs(engine, "boom")) >= 2)
    finally:
        stop.set()
        thread.join(30)
    assert {r.status for r in runs(engine, "tick")} <= {"ok", "aborted"}
    assert {r.status for r in runs(engine, "boom")} <= {"failed", "aborted"}
    assert runs(engine, "boom")[0].detail == "ConnectionError: storefront unreachable"
    with engine.connect() as conn:
        ids = conn.execute(text("SELECT id FROM apscheduler_jobs ORDER BY id")).scalars().all()
    assert ids == ["boom", "tick"]
