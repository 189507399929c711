"""A real workspace server: a seeded SQLite database and ``repricer serve`` in a child
process on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from repricer.config import Settings
from repricer.db.engine import make_engine
from tests.web.seed import build

STARTUP_DEADLINE_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Workspace:
    url: str
    settings: Settings
    engine: Engine
    run_id: int
    process: subprocess.Popen[bytes]


def start_server(
    config: Path, port: int, *, env: dict[str, str] | None = None, host: str = "127.0.0.1"
) -> subprocess.Popen[bytes]:
    executable = Path(sys.executable).parent / "repricer"
    command = [str(executable), "--config", str(config), "serve"]
    return subprocess.Popen(
        [*command, "--host", host, "--port", str(port)],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            raise AssertionError(f"server exited with {process.returncode}: {output}")
        try:
            httpx.get(url, timeout=2.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"server at {url} did not answer within {STARTUP_DEADLINE_S} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    settings, run_id = build(tmp_path)
    assert settings.config_path is not None
    port = free_port()
    process = start_server(settings.config_path, port)
    url = f"http://127.0.0.1:{port}"
    engine = make_engine(settings.database.url)
    try:
        wait_until_up(url + "/queue", process)
        yield Workspace(url, settings, engine, run_id, process)
    finally:
        stop(process)
        engine.dispose()
