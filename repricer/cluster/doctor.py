"""``repricer doctor``: check that this machine can do its part of a crawl.

Run on the machine that dispatches (config, database, every Scrapyd node answering) or,
with ``--node``, on a Scrapyd node (what :mod:`repricer.cluster.node` lists as its needs).
Each check returns a :class:`Check`; nothing raises.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import make_url

from repricer import __version__
from repricer.cluster.client import NodeError, ScrapydNode
from repricer.cluster.node import DATABASE_ENV
from repricer.config import CrawlSettings, Settings
from repricer.crawl import SCRAPY_SETTINGS_MODULE
from repricer.db import migrate
from repricer.exceptions import RepricerError


@dataclass(frozen=True)
class Check:
    """``status``: ok | warn | fail."""

    check: str
    status: str
    detail: str


def check_node() -> list[Check]:
    """What a Scrapyd node needs, checked on the node (no config.toml involved)."""
    checks = [
        Check("repricer", "ok", f"version {__version__} (every node and the dispatcher alike)"),
        _module_check("scrapyd", "scrapyd", "pip install scrapyd"),
        _module_check("spiders", SCRAPY_SETTINGS_MODULE, "reinstall repricer"),
    ]
    url = os.environ.get(DATABASE_ENV)
    if not url:
        checks.append(Check("database", "fail", f"set {DATABASE_ENV} to the shared PostgreSQL URL"))
    else:
        checks.append(_database_check(url))
        if url.startswith("sqlite"):
            checks.append(Check("shared database", "warn", "SQLite is not shared between machines"))
    checks.append(_chromium_check(CrawlSettings().chromium_path))
    return checks


def check_dispatcher(settings: Settings) -> list[Check]:
    """The config, the database and, for the Scrapyd backend, every node."""
    checks = [Check("config", "ok", str(settings.config_path or "defaults and environment"))]
    checks.append(_database_check(settings.database.url))
    crawl = settings.crawl
    checks.append(Check("crawl backend", "ok", crawl.backend))
    for url in crawl.scrapyd_nodes if crawl.backend == "scrapyd" else []:
        node = ScrapydNode(url, timeout=10)
        try:
            status = node.daemon_status()
            detail = f"{status.get('node_name', '?')}: {status.get('running', 0)} running"
            checks.append(Check(f"node {url}", "ok", detail))
        except NodeError as exc:
            checks.append(Check(f"node {url}", "fail", str(exc)))
        finally:
            node.close()
    if any(c.render == "browser" for c in settings.competitors):
        checks.append(_chromium_check(crawl.chromium_path))
    return checks


def _module_check(name: str, module: str, fix: str) -> Check:
    try:
        importlib.import_module(module)
    except ImportError as exc:
        return Check(name, "fail", f"cannot import {module} ({exc}): {fix}")
    return Check(name, "ok", f"{module} imports")


def _database_check(url: str) -> Check:
    shown = _without_password(url)
    try:
        migrate.check_current(url)
    except RepricerError as exc:
        return Check("database", "fail", str(exc).replace(url, shown))
    except Exception as exc:  # a driver's connection error: say it, do not crash
        return Check("database", "fail", f"{shown}: cannot connect ({type(exc).__name__})")
    return Check("database", "ok", f"{shown} at the latest revision")


def _chromium_check(path: Path, exists: Callable[[Path], bool] = Path.exists) -> Check:
    if exists(path):
        return Check("chromium", "ok", str(path))
    return Check(
        "chromium", "warn", f"{path} missing: needed for competitors with render = browser"
    )


def _without_password(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparsable database URL)"
