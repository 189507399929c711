"""Real Scrapyd processes on 127.0.0.1 for tests and benchmarks.

Each node runs ``python -m scrapyd`` from this interpreter (so it has repricer
installed) in a folder of its own, in its own process group: :meth:`ScrapydProcess.kill`
takes the node down with its running crawls, as a machine that dies would.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

CONF = """[scrapyd]
bind_address = 127.0.0.1
http_port = {port}
max_proc = {max_proc}
poll_interval = {poll}
logs_dir = {root}/logs
eggs_dir = {root}/eggs
dbs_dir = {root}/dbs
jobs_to_keep = 50
finished_to_keep = 500
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ScrapydProcess:
    """``with ScrapydProcess(env={...}) as node: node.url``."""

    def __init__(self, env: dict[str, str], *, max_proc: int = 1, poll: float = 0.2) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="repricer-scrapyd-"))
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        (self.root / "scrapyd.conf").write_text(
            CONF.format(port=self.port, max_proc=max_proc, poll=poll, root=self.root)
        )
        self.env = {**os.environ, **env}
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ScrapydProcess:
        log = (self.root / "scrapyd.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scrapyd", "--pidfile="],
            cwd=self.root,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"scrapyd exited: {self.log()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/daemonstatus.json", timeout=1).status_code == 200:
                    return self
            time.sleep(0.1)
        self.kill()
        raise RuntimeError("scrapyd did not start within 60 s")

    def log(self) -> str:
        return (self.root / "scrapyd.log").read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the node and every crawl it runs."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def __exit__(self, *exc: object) -> None:
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)
