"""Crawl benchmark: our spider (full extraction + storage) beside a bare Scrapy spider.

Serves N generated product pages (JSON-LD, microdata, OpenGraph and text-only pages
of ~20 KB) from 127.0.0.1, crawls them with `scrapy crawl product` and, in the same
run, with a bare spider that downloads the same URLs and extracts nothing; both run as
child processes with the same concurrency, and pages/s comes from Scrapy's own
elapsed time. Then R real-size pages (the saved shop pages of ../shared/pages-real, or
their vendored copy, ~550 KB each, served round-robin) through both spiders, and M
JS-rendered pages through Chromium. Our spider reads pages in ``--workers`` extraction
worker processes (``[crawl] extract_workers``, default: the setting's default).

The host is shared and its load moves within seconds, so the two spiders run in pairs,
one right after the other (``--rounds`` pairs of static runs, ``--real-rounds`` of
real-size ones, which goes first alternating): ``ratio`` is the median of the pairs'
ratios (each in ``ratio_runs``), pages/s the median run of each spider, and
``load_1m`` the load average before and after. Last line: one JSON object.

    .venv/bin/python bench/crawl.py [--n 2000] [--real-n 720] [--browser-n 100]
        [--rounds 5] [--real-rounds 3] [--workers N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import scrapy  # noqa: E402

from repricer.synthetic.pages import PageProduct  # noqa: E402
from repricer.synthetic.pages import product_page as synthetic_page  # noqa: E402


class BareSpider(scrapy.Spider):
    """Downloads the URLs in the file ``-a urls=PATH`` and does nothing with them."""

    name = "bare"
    custom_settings: ClassVar[dict[str, Any]] = {
        "ITEM_PIPELINES": {},
        "ROBOTSTXT_OBEY": False,
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_DELAY": 0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
        "LOG_LEVEL": "INFO",
        # A bare download: no competitor, so no egress policy (it refuses untargeted
        # requests to loopback addresses).
        "DOWNLOADER_MIDDLEWARES": {"spiders.middlewares.EgressPolicyMiddleware": None},
    }

    def __init__(self, urls: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.url_list = Path(urls).read_text().split()

    async def start(self) -> Any:
        for url in self.url_list:
            yield scrapy.Request(url, callback=self.parse, dont_filter=True)

    def parse(self, response: Any, **kwargs: Any) -> Any:
        # An empty item per page: without any output Scrapy's engine only pulls more
        # start requests on its 5 s heartbeat, which would make the baseline look slow.
        yield {}


MARKUPS = ("json-ld", "microdata", "opengraph", "selectors")  # static pages, in turn


def product_page(i: int) -> str:
    """Page i (~20 KB: menu, description, related products), each markup in turn."""
    product = PageProduct(f"Товар {i}", (1000 + i) * 100, sku=f"S{i}")
    return synthetic_page(product, MARKUPS[i % len(MARKUPS)], padded=True)


def js_page(i: int) -> str:
    """A page whose price only JavaScript inserts (Chromium renders it)."""
    return synthetic_page(PageProduct("Rendered", (500 + i) * 100), "script")


CONFIG = """
[database]
url = "sqlite:///{db}"
[crawl]
timeout = "20s"
retries = 0
autothrottle = false
extract_workers = {workers}
[[competitors]]
name = "bench"
domain = "127.0.0.1"
local = true
obey_robots = false
concurrency = 16
delay = 0
[[competitors]]
name = "benchreal"
domain = "127.0.0.1"
local = true
obey_robots = false
concurrency = 16
delay = 0
[[competitors]]
name = "benchjs"
domain = "127.0.0.1"
local = true
render = "browser"
obey_robots = false
concurrency = 8
delay = 0
"""


def real_pages() -> list[bytes]:
    """The saved real shop pages (decompressed), from ../shared or the vendored copy."""
    for folder in (ROOT.parent / "shared" / "pages-real", ROOT.parents[1] / "shared" / "pages-real",
                   ROOT / "tests" / "fixtures" / "pages_real"):  # fmt: skip
        if (folder / "html").is_dir():
            return [gzip.decompress(p.read_bytes()) for p in sorted((folder / "html").glob("*.gz"))]
    sys.exit("no real pages found (../shared/pages-real or tests/fixtures/pages_real)")


def seed(db: Path, urls: dict[str, list[str]]) -> None:
    from repricer.db import Base, make_engine
    from repricer.db.engine import session_scope
    from repricer.db.models import Competitor, Listing, Product

    engine = make_engine(f"sqlite:///{db}")
    Base.metadata.create_all(engine)
    with session_scope(engine) as session:
        for name, links in urls.items():
            competitor = Competitor(name=name, domain="127.0.0.1")
            session.add(competitor)
            session.flush()
            products = [Product(sku=f"{name}-{i}") for i in range(len(links))]
            session.add_all(products)
            session.flush()
            session.add_all(
                Listing(product_id=p.id, competitor_id=competitor.id, url=u)
                for p, u in zip(products, links, strict=True)
            )
    engine.dispose()


def elapsed(command: list[str], env: dict[str, str]) -> float:
    child = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    match = re.search(r"'elapsed_time_seconds': ([\d.]+)", child.stderr)
    if child.returncode != 0 or not match:
        sys.exit(f"crawl failed ({child.returncode}):\n{child.stderr[-3000:]}")
    items = re.search(r"'item_scraped_count': (\d+)", child.stderr)
    print(
        f"  {command[3]}: {match.group(1)} s, items {items.group(1) if items else 0}",
        file=sys.stderr,
    )
    return float(match.group(1))


class Pairs(NamedTuple):
    """Interleaved runs of the bare spider and ours: elapsed seconds of each run."""

    bare_runs: list[float]
    our_runs: list[float]

    @property
    def ratios(self) -> list[float]:
        """Bare time over ours, run by run (1.0: as fast as bare Scrapy)."""
        return [bare / ours for bare, ours in zip(self.bare_runs, self.our_runs, strict=True)]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def bare_s(self) -> float:
        return statistics.median(self.bare_runs)

    @property
    def ours_s(self) -> float:
        return statistics.median(self.our_runs)


def run_pairs(bare: list[str], ours: list[str], env: dict[str, str], rounds: int) -> Pairs:
    """``rounds`` runs of each spider, one right after the other, which goes first
    alternating: on a shared host the load moves within seconds, so each ratio compares
    runs made under about the same load, and the median of the ratios is reported."""
    pairs = Pairs([], [])
    for round_ in range(max(1, rounds)):
        if round_ % 2:
            ours_s = elapsed(ours, env)
            bare_s = elapsed(bare, env)
        else:
            bare_s = elapsed(bare, env)
            ours_s = elapsed(ours, env)
        pairs.bare_runs.append(bare_s)
        pairs.our_runs.append(ours_s)
        print(f"  round {round_ + 1}: ratio {bare_s / ours_s:.3f}", file=sys.stderr)
    return pairs


def time_extraction(n: int) -> float:
    from spiders.pages import extract_product

    pages = [product_page(i) for i in range(200)]
    started = time.perf_counter()
    for i in range(n):
        extract_product(pages[i % 200], f"http://127.0.0.1/p/{i}")
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="static pages")
    parser.add_argument("--real-n", type=int, default=720, help="real-size pages")
    parser.add_argument("--browser-n", type=int, default=100, help="pages through Chromium")
    parser.add_argument("--rounds", type=int, default=5, help="static runs of each spider")
    parser.add_argument("--real-rounds", type=int, default=3, help="real-size runs of each")
    parser.add_argument("--workers", type=int, default=None, help="[crawl] extract_workers")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]

    from repricer.config import CrawlSettings
    from repricer.loopback import LoopbackServer, Response

    # A short listen queue loses SYNs in a burst of 16 new connections and stalls the
    # client for a second each (for both spiders alike).
    with LoopbackServer(backlog=256) as server, tempfile.TemporaryDirectory() as tmp:
        for i in range(args.n):
            server.route(
                f"/p/{i}",
                # Bytes, not text: the server would encode the page again for every request.
                Response(
                    200, product_page(i).encode(), {"Content-Type": "text/html; charset=utf-8"}
                ),
            )
        real = real_pages()
        for i in range(args.real_n):
            server.route(
                f"/r/{i}", Response(200, real[i % len(real)], {"Content-Type": "text/html"})
            )
        for i in range(args.browser_n):
            server.route(
                f"/js/{i}",
                Response(200, js_page(i), {"Content-Type": "text/html; charset=utf-8"}),
            )
        urls = {
            "bench": [server.url(f"/p/{i}") for i in range(args.n)],
            "benchreal": [server.url(f"/r/{i}") for i in range(args.real_n)],
            "benchjs": [server.url(f"/js/{i}") for i in range(args.browser_n)],
        }
        db, config, url_file, real_file = (
            Path(tmp, "bench.db"),
            Path(tmp, "config.toml"),
            Path(tmp, "urls.txt"),
            Path(tmp, "real-urls.txt"),
        )
        seed(db, urls)
        workers = CrawlSettings().extract_workers if args.workers is None else args.workers
        config.write_text(CONFIG.format(db=db, workers=workers))
        url_file.write_text("\n".join(urls["bench"]))
        real_file.write_text("\n".join(urls["benchreal"]))
        env = dict(os.environ, REPRICER_CONFIG=str(config))
        scrapy_cmd = [sys.executable, "-m", "scrapy"]
        ours_cmd = [*scrapy_cmd, "crawl", "product", "-a"]
        bare_cmd = [*scrapy_cmd, "runspider", __file__, "-a"]
        print(f"static: {args.n} pages; browser: {args.browser_n} pages", file=sys.stderr)
        static = run_pairs(
            [*bare_cmd, f"urls={url_file}"], [*ours_cmd, "competitor=bench"], env, args.rounds
        )
        real = run_pairs(
            [*bare_cmd, f"urls={real_file}"],
            [*ours_cmd, "competitor=benchreal"],
            env,
            args.real_rounds,
        )
        browser_s = elapsed([*ours_cmd, "competitor=benchjs"], env)
    extraction = time_extraction(2000)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = {
        "static_pages": args.n,
        "extract_workers": workers,
        "bare_pages_per_s": round(args.n / static.bare_s, 1),
        "pages_per_s": round(args.n / static.ours_s, 1),
        "ratio": round(static.ratio, 3),
        "ratio_runs": [round(r, 3) for r in static.ratios],
        "real_pages": args.real_n,
        "real_bare_pages_per_s": round(args.real_n / real.bare_s, 1),
        "real_pages_per_s": round(args.real_n / real.ours_s, 1),
        "real_ratio": round(real.ratio, 3),
        "real_ratio_runs": [round(r, 3) for r in real.ratios],
        "browser_pages": args.browser_n,
        "browser_pages_per_s": round(args.browser_n / browser_s, 1),
        "extract_pages_per_s": round(extraction, 1),
        "peak_rss_mib": round(peak, 1),
        "load_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    print(f"bare spider:  {result['bare_pages_per_s']} pages/s")
    print(
        f"our spider:   {result['pages_per_s']} pages/s (median ratio {result['ratio']} "
        f"of {result['ratio_runs']})"
    )
    print(
        f"real pages:   ours {result['real_pages_per_s']} pages/s, bare "
        f"{result['real_bare_pages_per_s']} pages/s (median ratio {result['real_ratio']})"
    )
    print(f"browser:      {result['browser_pages_per_s']} pages/s")
    print(f"extract_product alone: {result['extract_pages_per_s']} pages/s")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
