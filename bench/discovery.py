"""Benchmark: listing discovery against a loopback shop with nested gzip sitemaps.

A shop of N product pages (default 5,000) behind robots.txt -> gzip sitemap index ->
nested index -> URL sets is discovered end to end with ``run_discovery`` (the Scrapy
child process, candidate store, matching, proposals) against a catalog in which
half the products carry the page's GTIN, a quarter only its model code in a re-worded
title, and a quarter are absent from the shop. Reports pages found, how many GTIN matches
point at the right page, the precision of all accepted matches, and the highest request
rate the server saw over any 1-second window against the configured one. The baseline
beside it matches the same candidates by exact (lower-cased) title equality.

    .venv/bin/python bench/discovery.py [--pages 5000] [--delay 0.005]
"""

from __future__ import annotations

import argparse
import bisect
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, select  # noqa: E402

from repricer.config import load_settings  # noqa: E402
from repricer.db.engine import make_engine, session_scope  # noqa: E402
from repricer.db.migrate import upgrade  # noqa: E402
from repricer.db.models import Candidate, Listing, Product  # noqa: E402
from repricer.loopback import LoopbackServer  # noqa: E402
from repricer.matching.codes import gtin_check_digit  # noqa: E402
from repricer.matching.discovery import run_discovery  # noqa: E402
from repricer.synthetic.sitemap_shop import ShopProduct, serve_shop  # noqa: E402

KINDS = ["kettle", "drill", "camera", "blender", "toaster", "router", "iron", "mixer"]


def _gtin(n: int) -> str:
    body = f"47{n:010d}"
    return body + str(gtin_check_digit(body))


def _shop(pages: int) -> list[ShopProduct]:
    return [
        ShopProduct(
            i,
            f"Brand{i % 13} {KINDS[i % 8]} {['QX', 'ZR', 'VT'][i % 3]}-{10000 + i}",
            _gtin(i) if i % 4 != 1 else "",
            f"{['QX', 'ZR', 'VT'][i % 3]}-{10000 + i}",
            (500 + i) * 100,
        )
        for i in range(pages)
    ]


def _catalog(engine: Engine, shop: list[ShopProduct]) -> dict[str, str]:
    """SKU -> the page path it should match (None-less: absent products are left out)."""
    truth: dict[str, str] = {}
    with session_scope(engine) as session:
        for p in shop:
            if p.id % 4 in (0, 2):  # the page's GTIN
                session.add(Product(sku=f"G{p.id}", title=p.name.lower(), gtin=p.gtin))
                truth[f"G{p.id}"] = f"/p/{p.id}"
            elif p.id % 4 == 1:  # only the model code, re-worded
                words = p.name.split()
                session.add(
                    Product(
                        sku=f"M{p.id}", title=f"{words[1]} {words[2].replace('-', '')} {words[0]}"
                    )
                )
                truth[f"M{p.id}"] = f"/p/{p.id}"
            else:  # not on the shop
                session.add(
                    Product(sku=f"X{p.id}", title=f"garden hose {p.id} m", gtin=_gtin(10**8 + p.id))
                )
    return truth


def _max_rate(times: list[float]) -> int:
    times = sorted(times)
    return max((bisect.bisect_right(times, t + 1.0) - i for i, t in enumerate(times)), default=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument(
        "--delay", type=float, default=0.005, help="configured seconds between requests"
    )
    args = parser.parse_args()
    shop = _shop(args.pages)
    with tempfile.TemporaryDirectory() as tmp, LoopbackServer() as server:
        log = serve_shop(server, shop)
        url = f"sqlite:///{tmp}/bench.db"
        config = Path(tmp) / "config.toml"
        config.write_text(f'[database]\nurl = "{url}"\n[crawl]\nautothrottle = false\n'
                          f'[[competitors]]\nname = "shop"\ndomain = "127.0.0.1"\nlocal = true\nconcurrency = 4\n'
                          f'delay = {args.delay}\nsitemaps = ["{server.url("/robots.txt")}"]\n')  # fmt: skip
        settings = load_settings(config)
        upgrade(url)
        engine = make_engine(url)
        truth = _catalog(engine, shop)
        started = time.perf_counter()
        run_discovery(settings)
        discover_s = time.perf_counter() - started
        with session_scope(engine) as session:
            found = len(session.scalars(select(Candidate.url)).all())
            titles = {
                t.lower(): u for u, t in session.execute(select(Candidate.url, Candidate.title))
            }
            rows = session.execute(select(Product.sku, Listing.url, Listing.status, Listing.match_method)
                                   .join(Listing, Listing.product_id == Product.id)).all()  # fmt: skip
            products = session.execute(select(Product.sku, Product.title)).all()
    accepted = [(sku, u, m) for sku, u, s, m in rows if s == "accepted"]
    right = [a for a in accepted if a[0] in truth and a[1].endswith(truth[a[0]])]
    by_gtin = [a for a in accepted if a[2] == "gtin"]
    gtin_right = sum(1 for a in by_gtin if a[0] in truth and a[1].endswith(truth[a[0]]))
    expected_gtin = sum(1 for sku in truth if sku.startswith("G"))
    baseline = {sku: titles[t] for sku, t in products if t in titles}
    baseline_right = sum(
        1 for sku, u in baseline.items() if sku in truth and u.endswith(truth[sku])
    )
    rate = _max_rate(log.times)
    print(f"discovery: {found}/{args.pages} pages in {discover_s:.1f}s; GTIN matches "
          f"{gtin_right}/{len(by_gtin)} right of {expected_gtin}; accepted {len(accepted)}, "
          f"right {len(right)} of {len(truth)} findable; max {rate} requests/s (configured "
          f"<= {1 / args.delay:.0f}/s) | baseline exact title: {len(baseline)} matched, "
          f"{baseline_right} right")  # fmt: skip
    print(json.dumps({
        "pages": args.pages, "pages_found": found, "discover_s": round(discover_s, 1),
        "gtin_matches": len(by_gtin), "gtin_matches_right": gtin_right,
        "gtin_expected": expected_gtin, "accepted": len(accepted), "accepted_right": len(right),
        "findable": len(truth), "max_requests_per_s": rate,
        "configured_requests_per_s": round(1 / args.delay, 1),
        "baseline_matched": len(baseline), "baseline_right": baseline_right,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
