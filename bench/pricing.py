"""Benchmark: the vectorised pricing engine beside the per-product reference.

A synthetic catalog of N products (default 1,000,000) with 5 competitor observations
each is priced in memory with explanations (a dry run of ``repricer.pricing.core.decide``,
timed after a 1,000-product warm-up that builds the lookup tables); the plain
per-product reference implementation (tests/pricing/reference.py, with a per-row
explanation) prices a sample and its time is extrapolated to N. Separately, the database load
(``repricer.pricing.inputs.load_inputs``) and the bulk store of a run are timed on a
smaller SQLite catalog (``--db-n``). Prints both, then one JSON object on the last line.

    .venv/bin/python bench/pricing.py [--n 1000000] [--sample 5000] [--db-n 20000]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from repricer.pricing.core import decide  # noqa: E402
from repricer.pricing.rules import Rule, parse_rules  # noqa: E402
from tests.pricing.reference import decide_one, explain_one  # noqa: E402

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
COMPETITORS = ["citilink", "dns", "mvideo", "ozon", "wildberries"]
RULES = """
[defaults]
min_margin = "12%"
fixed_fee = "30 RUB"
max_markup = "150%"
max_change = "15%"
rounding = "ends_in_9"
min_delta = "5 RUB"
cooldown = "6h"
stale_after = "48h"
no_competitors = "cost_plus"
markup = "25%"
all_out_of_stock = "ceiling"
we_out_of_stock = "skip"
raise_back = "10%"

[[rule]]
name = "phones"
match = { category = "phones" }
strategy = "position"
rank = 2
beat_by = "10 RUB"

[[rule]]
name = "accessories"
match = { category = "accessories" }
strategy = "follow"
competitor = "dns"
adjust = "-2%"

[[rule]]
name = "median"
match = { tag = "premium" }
strategy = "match_median"

[[rule]]
name = "default"
strategy = "beat_lowest"
beat_by = "1%"
"""


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_catalog(n: int, per: int, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Products around a market level each, and ``per`` observations per product."""
    rng = np.random.default_rng(seed)
    level = rng.integers(50_000, 5_000_000, n)
    ids = np.arange(1, n + 1, dtype=np.int64)
    categories = pd.Categorical.from_codes(
        rng.integers(0, 4, n), ["phones", "accessories", "tv", "kitchen"]
    )

    def some(values: np.ndarray, share: float) -> pd.arrays.IntegerArray:
        return pd.arrays.IntegerArray(values.astype(np.int64), rng.random(n) > share)

    products = pd.DataFrame(
        {
            "product_id": ids,
            "sku": pd.Series(ids).map("SKU-{:07d}".format),
            "category": categories,
            "brand": pd.Categorical.from_codes(rng.integers(0, 3, n), ["Acme", "Bosch", "Zeta"]),
            "tags": pd.Series([["premium"], None, None, None])[rng.integers(0, 4, n)].to_numpy(),
            "currency": "RUB",
            "price": some(level * rng.integers(85, 120, n) // 100, 0.99),
            "stock": some(rng.integers(0, 20, n), 0.9),
            "map_price": some(level * 70 // 100, 0.1),
            "min_price": some(level * 60 // 100, 0.05),
            "max_price": some(level * 2, 0.2),
            "cost": some(level * rng.integers(55, 95, n) // 100, 0.98),
            "supplier_available": pd.array(rng.random(n) > 0.05, dtype="boolean"),
            "last_change_at": pd.Series(
                pd.Timestamp(NOW) - pd.to_timedelta(rng.integers(0, 96, n), unit="h")
            ),
        }
    )
    m = n * per
    owner = np.repeat(np.arange(n), per)
    observations = pd.DataFrame(
        {
            "product_id": ids[owner],
            "competitor": pd.Categorical.from_codes(
                np.tile(np.arange(per) % len(COMPETITORS), n), COMPETITORS
            ),
            "price": level[owner] * rng.integers(85, 115, m) // 100,
            "in_stock": rng.random(m) > 0.15,
            "observed_at": pd.Timestamp(NOW)
            - pd.to_timedelta(rng.integers(0, 60 * 3600, m), unit="s"),
        }
    )
    return products, observations


def time_reference(
    products: pd.DataFrame, observations: pd.DataFrame, rules: list[Rule], sample: int
) -> float:
    """Seconds per product of the reference over the first ``sample`` products."""
    rows = products.head(sample)
    records = rows.astype(object).where(rows.notna(), None).to_dict("records")
    for record in records:
        if record["last_change_at"] is not None:
            record["last_change_at"] = record["last_change_at"].to_pydatetime()
    obs = observations[observations["product_id"].isin(rows["product_id"])]
    obs = obs.assign(
        competitor=obs["competitor"].astype(str), observed_at=obs["observed_at"].dt.to_pydatetime()
    )
    by_product: dict[int, list[dict[str, object]]] = {}
    for o in obs.to_dict("records"):
        by_product.setdefault(int(o["product_id"]), []).append(o)
    started = time.perf_counter()
    for record in records:
        decision = decide_one(
            record, by_product.get(int(record["product_id"]), []), rules, NOW, "RUB"
        )
        explain_one(decision, record, "RUB")
    return (time.perf_counter() - started) / len(records)


def time_database(
    products: pd.DataFrame, observations: pd.DataFrame, rules_text: str
) -> dict[str, float]:
    """Load a catalog into SQLite, then time load_inputs and a full dry run (store included)."""
    from repricer.config import load_settings
    from repricer.db import Base, make_engine
    from repricer.pricing import reprice
    from repricer.pricing.inputs import load_inputs

    folder = Path(tempfile.mkdtemp(prefix="repricer-bench-"))
    (folder / "rules").mkdir()
    (folder / "rules" / "default.toml").write_text(rules_text, encoding="utf-8")
    (folder / "config.toml").write_text(
        f'[database]\nurl = "sqlite:///{folder / "bench.db"}"\n[pricing]\nrules_dir = "rules"\nmax_changed_share = "100%"\nmax_median_change = "100%"\n',
        encoding="utf-8",
    )
    settings = load_settings(folder / "config.toml")
    engine = make_engine(settings.database.url)
    Base.metadata.create_all(engine)
    _fill_database(engine, products, observations)
    started = time.perf_counter()
    with engine.connect() as conn:
        load_inputs(conn, settings, now=NOW, max_age=timedelta(hours=48))
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    reprice(settings, engine, now=NOW)
    run_s = time.perf_counter() - started
    engine.dispose()
    return {"db_load_s": round(load_s, 3), "db_dry_run_with_store_s": round(run_s, 3)}


def _fill_database(engine: object, products: pd.DataFrame, observations: pd.DataFrame) -> None:
    import json as _json

    from sqlalchemy import Engine

    assert isinstance(engine, Engine)
    n = len(products)
    rows = pd.DataFrame(
        {
            "id": products["product_id"], "sku": products["sku"], "category": products["category"].astype(str),
            "brand": products["brand"].astype(str), "currency": "RUB", "price": products["price"],
            "stock": products["stock"], "map_price": products["map_price"], "min_price": products["min_price"],
            "max_price": products["max_price"],
            "tags": products["tags"].map(lambda t: _json.dumps(t or [])),
            "created_at": str(NOW.replace(tzinfo=None)), "updated_at": str(NOW.replace(tzinfo=None)),
        }
    )  # fmt: skip
    stamp = observations["observed_at"].dt.tz_convert(None).astype(str)
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        rows.to_sql("products", raw, if_exists="append", index=False)
        raw.execute(
            "INSERT INTO suppliers (id, name, priority, created_at) VALUES (1, 's', 0, '2026-01-01')"
        )
        offers = pd.DataFrame(
            {"supplier_id": 1, "key": products["sku"], "product_id": products["product_id"], "currency": "RUB",
             "cost": products["cost"], "stock_qty": 5, "available": products["supplier_available"].fillna(True).astype(int),
             "seen_at": "2026-01-01", "updated_at": "2026-01-01"}
        )  # fmt: skip
        offers.to_sql("supplier_offers", raw, if_exists="append", index=False)
        for i, name in enumerate(COMPETITORS, start=1):
            raw.execute(
                "INSERT INTO competitors (id, name, domain, is_self, created_at) VALUES (?, ?, ?, 0, '2026-01-01')",
                (i, name, name),
            )
        codes = observations["competitor"].cat.codes.to_numpy() + 1
        listings = pd.DataFrame(
            {"id": np.arange(1, len(observations) + 1), "product_id": observations["product_id"], "competitor_id": codes,
             "url": "u" + pd.Series(np.arange(len(observations))).astype(str), "match_method": "manual",
             "confidence": 1.0, "active": 1, "created_at": "2026-01-01"}
        )  # fmt: skip
        listings.to_sql("listings", raw, if_exists="append", index=False)
        obs = pd.DataFrame(
            {"listing_id": listings["id"], "observed_at": stamp, "status": "ok", "price": observations["price"],
             "currency": "RUB", "availability": np.where(observations["in_stock"], "in_stock", "out_of_stock"),
             "is_anomaly": 0, "is_mismatch": 0}
        )  # fmt: skip
        obs.to_sql("observations", raw, if_exists="append", index=False)
    assert n == len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="products (default 1,000,000)")
    parser.add_argument("--per", type=int, default=5, help="observations per product")
    parser.add_argument("--sample", type=int, default=5000, help="products priced by the reference")
    parser.add_argument(
        "--db-n", type=int, default=20000, help="products in the database timing (0: skip)"
    )
    args = parser.parse_args()
    rules = parse_rules(RULES, Path("bench.toml"))
    products, observations = make_catalog(args.n, args.per)
    rss_before = peak_rss_mib()
    warm_products, warm_observations = make_catalog(1000, args.per, seed=3)
    decide(
        warm_products, warm_observations, rules, now=NOW, currency="RUB"
    )  # imports, lookup tables
    started = time.perf_counter()
    decisions = decide(products, observations, rules, now=NOW, currency="RUB")
    ours = time.perf_counter() - started
    peak = peak_rss_mib()
    per_product = time_reference(products, observations, rules, min(args.sample, args.n))
    baseline = per_product * args.n
    statuses = decisions["status"].value_counts().to_dict()
    print(
        f"engine:    {args.n:,} products x {args.per} observations in {ours:.2f} s, peak RSS {peak:.0f} MiB"
    )
    print(
        f"reference: {per_product * 1e6:.1f} us/product on {min(args.sample, args.n):,} -> {baseline:.1f} s extrapolated"
    )
    print(f"ratio:     {baseline / ours:.1f}x; statuses {statuses}")
    print(f"example:   {decisions['explanation'].iloc[0]}")
    result = {
        "products": args.n,
        "observations": args.n * args.per,
        "engine_s": round(ours, 3),
        "reference_s_extrapolated": round(baseline, 1),
        "ratio": round(baseline / ours, 1),
        "peak_rss_mib": round(peak, 1),
        "rss_before_engine_mib": round(rss_before, 1),
    }
    if args.db_n:
        db_products, db_observations = make_catalog(args.db_n, args.per, seed=11)
        timings = time_database(db_products, db_observations, RULES)
        print(
            f"database:  {args.db_n:,} products: load {timings['db_load_s']} s, dry run with store {timings['db_dry_run_with_store_s']} s"
        )
        result |= {"db_products": args.db_n, **timings}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
