"""Run reports on a large catalog: build (pandas) and write HTML, XLSX and CSV.

Seeds a SQLite database with N products, 3 competitors with a listing each and 5
observations per listing, and one repricing run changing every product. Then times our
``build_report`` + writers against a plain baseline in the same run: one SQL join read
with ``pandas.read_sql`` and written with ``DataFrame.to_excel/to_html/to_csv`` (no
market, margins, charts, history, styles or escaping beyond pandas' own).
Prints both, then one JSON object on the last line.

    .venv/bin/python bench/report.py [--n 20000]
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, insert, text

from repricer.db import Base, make_engine
from repricer.db.models import Competitor, Listing, Observation, PriceChange, Product, RepricingRun
from repricer.reports import build_report, write_csv, write_html, write_xlsx

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SHOPS = ("alpha", "beta", "gamma")
BASELINE_SQL = """
SELECT c.id, c.sku, p.title, p.category, c.currency, c.old_price, c.new_price, c.cost,
       c.rule, c.status, c.explanation
FROM price_changes c JOIN products p ON p.id = c.product_id WHERE c.run_id = :run
"""


def seed(engine: Engine, n: int) -> int:
    rng = np.random.default_rng(11)
    price = rng.integers(100, 50000, n) * 100
    new = price + (price * rng.integers(-8, 9, n) // 100)
    with engine.begin() as conn:
        conn.execute(
            insert(Product),
            [
                {
                    "id": i + 1,
                    "sku": f"SKU-{i:06d}",
                    "title": f"Product {i}",
                    "category": f"Cat {i % 12}",
                    "price": int(price[i]),
                }
                for i in range(n)
            ],
        )
        conn.execute(
            insert(Competitor),
            [{"id": k + 1, "name": s, "domain": f"{s}.test"} for k, s in enumerate(SHOPS)],
        )
        conn.execute(
            insert(Listing),
            [
                {
                    "id": i * 3 + k + 1,
                    "product_id": i + 1,
                    "competitor_id": k + 1,
                    "url": f"https://{s}.test/{i}",
                }
                for i in range(n)
                for k, s in enumerate(SHOPS)
            ],
        )
        seen = price.repeat(3) * rng.integers(90, 111, 3 * n) // 100
        conn.execute(
            insert(Observation),
            [
                {
                    "listing_id": j + 1,
                    "status": "ok",
                    "price": int(seen[j]) + d * 100,
                    "currency": "RUB",
                    "observed_at": NOW - timedelta(days=d),
                    "title": f"<b>{j}</b>",
                }
                for j in range(3 * n)
                for d in range(5)
            ],
        )
        run = conn.execute(
            insert(RepricingRun).values(status="applied", started_at=NOW, finished_at=NOW)
        ).inserted_primary_key[0]
        statuses = np.where(np.abs(new - price) * 20 <= price, "approved", "needs_approval")
        conn.execute(
            insert(PriceChange),
            [
                {
                    "run_id": run,
                    "product_id": i + 1,
                    "sku": f"SKU-{i:06d}",
                    "currency": "RUB",
                    "old_price": int(price[i]),
                    "new_price": int(new[i]),
                    "cost": int(price[i] * 7 // 10),
                    "rule": "default",
                    "explanation": "beat the lowest competitor",
                    "status": str(statuses[i]),
                    "decided_at": NOW,
                }
                for i in range(n)
            ],
        )
    return int(run)


def timed(label: str, work: Callable[[], Any], times: dict[str, float]) -> Any:
    start = time.perf_counter()
    result = work()
    times[label] = round(time.perf_counter() - start, 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="products (default 20000)")
    n = parser.parse_args().n
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
        Base.metadata.create_all(engine)
        run = seed(engine, n)
        ours: dict[str, float] = {}
        report = timed("build_s", lambda: build_report(engine, run), ours)
        timed("html_s", lambda: write_html(report, folder / "r.html"), ours)
        timed("xlsx_s", lambda: write_xlsx(report, folder / "r.xlsx"), ours)
        timed("csv_s", lambda: write_csv(report, folder / "r.csv"), ours)
        base: dict[str, float] = {}
        with engine.connect() as conn:
            frame = timed(
                "build_s", lambda: pd.read_sql(text(BASELINE_SQL), conn, params={"run": run}), base
            )
        timed("html_s", lambda: frame.to_html(folder / "b.html"), base)
        timed("xlsx_s", lambda: frame.to_excel(folder / "b.xlsx", index=False), base)
        timed("csv_s", lambda: frame.to_csv(folder / "b.csv", index=False), base)
        html_mib = (folder / "r.html").stat().st_size / 2**20
    ours_total, base_total = sum(ours.values()), sum(base.values())
    print(f"ours     (n={n}): {ours}  total {ours_total:.2f} s, html {html_mib:.1f} MiB")
    print(f"baseline (n={n}): {base}  total {base_total:.2f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "n_products": n,
                **{f"ours_{k}": v for k, v in ours.items()},
                **{f"baseline_{k}": v for k, v in base.items()},
                "ours_total_s": round(ours_total, 3),
                "baseline_total_s": round(base_total, 3),
                "ratio": round(ours_total / base_total, 2),
                "html_mib": round(html_mib, 2),
                "peak_rss_mib": round(peak, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
