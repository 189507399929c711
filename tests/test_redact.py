"""Secrets never reach an output channel or the database (repricer.redact)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text
from typer.testing import CliRunner

from repricer.cli import app
from repricer.loopback import LoopbackServer, Response
from repricer.redact import RedactingFilter, redact, register_secret
from tests.support.dbdump import all_text
from tests.support.waiting import wait_until

CASES = [
    (
        "postgresql+psycopg://repricer:Pg-Pass-1@db.example:5432/shop",
        "postgresql+psycopg://repricer:***@db.example:5432/shop",
    ),
    ("https://feeduser:p%40ss@feeds.example/x.yml", "https://feeduser:***@feeds.example/x.yml"),
    ("https://TOKEN123456@feeds.example/x.yml", "https://***@feeds.example/x.yml"),
    (
        "HTTP 500 from https://f.example/p.csv?token=abc123&page=2 (after 1 attempt(s))",
        "HTTP 500 from https://f.example/p.csv?token=***&page=2 (after 1 attempt(s))",
    ),
    (
        "https://x.example/?api_key=K&X-Amz-Signature=S&auth=A&sid=1",
        "https://x.example/?api_key=***&X-Amz-Signature=***&auth=***&sid=1",
    ),
    ("host=db user=r password=Hunter2 dbname=x", "host=db user=r password=*** dbname=x"),
    ("no secret here: 1 299 ₽, a=b", "no secret here: 1 299 ₽, a=b"),
]


@pytest.mark.parametrize(("raw", "clean"), CASES, ids=[c[1][:30] for c in CASES])
def test_redact(raw: str, clean: str) -> None:
    assert redact(raw) == clean
    assert redact(clean) == clean  # idempotent


def test_registered_secret_is_masked_anywhere() -> None:
    register_secret("Zq8-registered-secret")
    assert redact("Authorization: Bearer Zq8-registered-secret!") == "Authorization: Bearer ***!"


def test_log_filter_redacts_message_arguments(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.redact")
    caplog.handler.addFilter(RedactingFilter())
    logger.warning("fetch failed: %s", "https://u:Log-Secret-3@h.example/f?token=Log-Tok-4")
    assert "Log-Secret-3" not in caplog.text and "Log-Tok-4" not in caplog.text
    assert "https://u:***@h.example/f?token=***" in caplog.text


FEED_PASS, FEED_TOKEN, DB_PASS = "Feed-Pass-7741", "Tok-Secret-5522", "Pg-Secret-9931"
SECRETS = (FEED_PASS, FEED_TOKEN, DB_PASS)


def _config(engine: Engine, server: LoopbackServer, write_config: Callable[[str], Path]) -> Path:
    url = make_url(engine.url.render_as_string(hide_password=False))
    if url.get_backend_name() == "postgresql":
        url = url.set(password=DB_PASS)  # the throwaway cluster trusts 127.0.0.1
    feed = server.url("/feed.yml").replace("http://", f"http://feeduser:{FEED_PASS}@")
    return write_config(
        f"""
        [database]
        url = "{url.render_as_string(hide_password=False)}"

        [[suppliers]]
        name = "acme"
        url = "{feed}?token={FEED_TOKEN}&page=1"
        format = "yml"
        retries = 0
        every = "1m"

        [[suppliers]]
        name = "closed"
        url = "http://127.0.0.1:9/feed.yml?access_token={FEED_TOKEN}"
        format = "yml"
        retries = 0
        every = "1m"
        """
    )


def _assert_clean(where: str, output: str) -> None:
    for secret in SECRETS:
        assert secret not in output, f"{secret} in {where}:\n{output}"


def test_secrets_never_reach_cli_json_logs_or_database(
    any_engine: Engine, http_server: LoopbackServer, write_config: Callable[[str], Path]
) -> None:
    http_server.route("/feed.yml", lambda _r: Response(500, b"boom"))
    config = _config(any_engine, http_server, write_config)
    runner = CliRunner()
    outputs = {}
    for args in (
        ["feeds", "sync"],
        ["feeds", "sync", "--json"],
        ["feeds", "status"],
        ["feeds", "status", "--json"],
        ["db", "current"],
    ):
        result = runner.invoke(app, ["--config", str(config), *args])
        outputs[" ".join(args)] = result.output
        _assert_clean(" ".join(args), result.output)
    assert "?token=***" in outputs["feeds sync --json"]  # the URL is shown, masked
    assert "feeduser:***@" in outputs["feeds status --json"]

    log = _run_scheduler_briefly(config, any_engine)
    _assert_clean("schedule run output", log)
    assert "scheduler running on" in log
    _assert_clean("database", all_text(any_engine))


def _run_scheduler_briefly(config: Path, engine: Engine) -> str:
    """``repricer schedule run`` until both feeds have been tried; its whole output."""
    with engine.begin() as conn:
        before = conn.execute(text("SELECT count(*) FROM job_runs")).scalar_one()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPRICER_")}
    exe = str(Path(sys.executable).parent / "repricer")
    proc = subprocess.Popen(
        [exe, "--config", str(config), "schedule", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:

        def two_runs_done_or_exited() -> bool:
            with engine.connect() as conn:
                done = conn.execute(
                    text("SELECT count(*) FROM job_runs WHERE status != 'running'")
                ).scalar_one()
            return bool(done - before >= 2 or proc.poll() is not None)

        wait_until(two_runs_done_or_exited, "two job runs", timeout=90, poll=0.3)
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return output.decode("utf-8", "replace")
