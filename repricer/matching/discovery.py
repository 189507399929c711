"""``listings discover``: crawl a competitor's sitemaps for candidate pages, then match.

The crawl runs as a child process (``scrapy crawl discover``, see
``spiders/spiders/discover.py``) like ``repricer crawl``; the candidates it stores are
then matched against the catalog in this process (:mod:`repricer.matching.proposals`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select

from repricer.config import Settings
from repricer.crawl import SCRAPY_SETTINGS_MODULE
from repricer.db.engine import make_engine, session_scope
from repricer.db.models import Product
from repricer.exceptions import CrawlError
from repricer.matching.codes import display_gtin, extract_model_codes, normalize_gtin

_ERROR_TAIL = 2000


@dataclass(frozen=True)
class DiscoveryResult:
    """Per competitor: candidate pages known, and proposals made by this run."""

    competitor: str
    candidates: int
    accepted: int
    review: int


def search_queries(engine: Engine, limit: int | None = None) -> list[str]:
    """What to type into a competitor's search box: each product's GTIN, else its first
    model code, at most ``limit`` of them."""
    queries: list[str] = []
    with session_scope(engine) as session:
        for gtin, title in session.execute(
            select(Product.gtin, Product.title).order_by(Product.id)
        ):
            if limit is not None and len(queries) >= limit:
                break
            normal = normalize_gtin(gtin)
            codes = extract_model_codes(title)
            if normal:
                queries.append(display_gtin(normal))
            elif codes:
                queries.append(codes[0])
    return queries


def discover_command(competitor: str, limit: int | None) -> list[str]:
    """The child process command line."""
    command = [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        "discover",
        "-a",
        f"competitor={competitor}",
    ]
    return command + (["-a", f"limit={limit}"] if limit is not None else [])


def crawl_candidates(settings: Settings, competitor: str, limit: int | None = None) -> None:
    """Run the discover spider for one competitor; raises ``CrawlError`` when it fails."""
    if settings.config_path is None:
        raise CrawlError("discovery needs a config file (load settings with load_settings)")
    config = Path(settings.config_path).resolve()
    env = dict(
        os.environ, REPRICER_CONFIG=str(config), SCRAPY_SETTINGS_MODULE=SCRAPY_SETTINGS_MODULE
    )
    try:
        done = subprocess.run(
            discover_command(competitor, limit),
            cwd=config.parent,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=settings.crawl.run_timeout.total_seconds(),
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise CrawlError(f"discovery on {competitor} stopped after {exc.timeout:g}s") from None
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace")[-_ERROR_TAIL:].strip()
        raise CrawlError(f"discovery on {competitor} exited with {done.returncode}: {tail}")


def run_discovery(
    settings: Settings, *, competitors: list[str] | None = None, limit: int | None = None
) -> list[DiscoveryResult]:
    """Discover and match for the named competitors (default: all but our own store)."""
    from repricer.matching.proposals import propose_listings  # loads the model

    names = [settings.competitor(n).name for n in competitors or []] or [
        c.name for c in settings.competitors if not c.is_self
    ]
    engine = make_engine(settings.database.url)
    try:
        results = []
        for name in names:
            crawl_candidates(settings, name, limit)
            results.append(propose_listings(settings, engine, name))
        return results
    finally:
        engine.dispose()
