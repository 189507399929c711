"""Two real ``repricer schedule run`` processes on one database: one acts, the other
waits as a standby; SIGKILL the active one in the middle of a feed sync and the standby
takes over within a minute, closing what the dead one left running as ``interrupted``.
A third started with ``--no-standby`` exits 1 naming the holder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from repricer.db.models import FeedSync, JobRun
from repricer.lease import SCHEDULER, lease_holder
from repricer.loopback import LoopbackServer, Request, Response
from tests.support.waiting import wait_until

FEED = Path(__file__).parent / "fixtures" / "feeds" / "offers-utf8.yml"
SCRIPT = "import sys; from repricer.cli import main; sys.argv = ['repricer', '--config', *sys.argv[1:]]; main()"


def _schedule(config: Path, *extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPRICER_")}
    env["PYTHONPATH"] = os.getcwd()
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(config), "schedule", "run", "--speed", "60", *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _holder_pid(engine: Engine) -> int | None:
    holder = lease_holder(engine, SCHEDULER)
    return holder.pid if holder else None


def _job_statuses(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(select(JobRun.status).order_by(JobRun.id)))


def _sync_statuses(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(select(FeedSync.status).order_by(FeedSync.id)))


@pytest.mark.slow
def test_standby_takes_over_from_a_killed_scheduler(
    any_engine: Engine, http_server: LoopbackServer, tmp_path: Path
) -> None:
    gate = threading.Event()

    def feed(_req: Request) -> Response:
        gate.wait(120)  # the first scheduler dies while its sync waits here
        return Response(200, FEED.read_bytes(), {"Content-Type": "application/xml"})

    http_server.route("/feed.yml", feed)
    url = any_engine.url.render_as_string(hide_password=False)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{url}"\nlease_ttl = "3s"\n\n'
        f'[[suppliers]]\nname = "acme"\nurl = "{http_server.url("/feed.yml")}"\n'
        'format = "yml"\nevery = "15m"\n',
        encoding="utf-8",
    )
    first = _schedule(config)
    wait_until(lambda: _holder_pid(any_engine) == first.pid)
    standby = _schedule(config)
    said: list[str] = []
    reader = threading.Thread(target=lambda: said.extend(standby.stderr or []), daemon=True)
    reader.start()
    try:
        wait_until(lambda: "running" in _job_statuses(any_engine))  # the first one's feed sync
        wait_until(lambda: any("standby" in line for line in said))
        assert standby.poll() is None and _holder_pid(any_engine) == first.pid
        assert any(f"pid {first.pid}" in line for line in said)  # it names whom it waits for

        os.kill(first.pid, signal.SIGKILL)
        first.wait(30)
        gate.set()
        wait_until(lambda: _holder_pid(any_engine) == standby.pid, "the standby to take over")
        wait_until(lambda: "interrupted" in _job_statuses(any_engine))
        wait_until(lambda: _sync_statuses(any_engine)[-2:] == ["interrupted", "ok"])

        third = _schedule(config, "--no-standby")
        _, third_err = third.communicate(timeout=120)
        assert third.returncode == 1
        assert "another scheduler is running on this database" in third_err
        assert f"pid {standby.pid}" in third_err and "Traceback" not in third_err

        standby.send_signal(signal.SIGTERM)
        standby.wait(120)
        reader.join(30)
    finally:
        gate.set()
        for process in (first, standby):
            if process.poll() is None:
                process.kill()
                process.wait()
    assert standby.returncode == 0, "".join(said)
    assert lease_holder(any_engine, SCHEDULER) is None  # released on a clean stop
