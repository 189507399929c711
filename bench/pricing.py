"""Benchmark: repricing a catalog in memory and through SQLite and PostgreSQL.

A synthetic catalog of N products (default 1,000,000) with 5 competitor observations
each is decided in memory (``repricer.pricing.core.evaluate``: typed columns, no text;
after a 1,000-product warm-up, the median of three timed runs, and the memory one more
run allocates beside its inputs, ``engine_peak_mib``), and the changed rows are explained; the plain
per-product reference implementation (tests/pricing/reference.py, with a per-row
explanation) prices a sample and its time is extrapolated to N (the baseline beside
ours). Then a catalog in a steady state (prices already where the rules put them except
for about 5%) is written to SQLite and to a throwaway PostgreSQL cluster (as the tests
start one; vacuumed, analysed and checkpointed there, as a database in use is), and
full runs are timed there: a dry run (load + decide + store) and an
applied run with auto-approval (``repricer.flow.apply_repricing``), each database's two
runs in a fresh child process, whose peak RSS is the runs' own (``peak_rss_mib``: the
larger of the two databases'); the storage one run adds is measured
(``run_storage_mib``: also the larger of the two). Ends with one JSON object on the last
line.

    .venv/bin/python bench/pricing.py [--n 1000000] [--sample 5000] [--db-n N] [--no-postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine  # noqa: E402

from repricer.db import Base  # noqa: E402
from repricer.pricing.core import evaluate  # noqa: E402
from repricer.pricing.decisions import decision_frame  # noqa: E402
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
    """This process's peak RSS: VmHWM, which starts afresh at exec (ru_maxrss carries
    the parent's size at fork into a child), else ru_maxrss."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(kib) / 1024


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


def engine_peak_mib(products: pd.DataFrame, observations: pd.DataFrame, rules: list[Rule]) -> float:
    """The most memory one ``evaluate`` holds at once beside its inputs (traced, in a
    run that is not timed)."""
    tracemalloc.start()
    try:
        evaluate(products, observations, rules, now=NOW, currency="RUB")
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


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


def steady_catalog(
    n: int, per: int, rules: list[Rule], changing: float, seed: int = 11
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A catalog whose prices are already where the rules put them, except a share
    ``changing`` of products whose price is 10% off (so the engine moves them back)."""
    products, observations = make_catalog(n, per, seed=seed)
    products["supplier_available"] = pd.array(np.ones(n, dtype=bool), dtype="boolean")
    products["last_change_at"] = pd.NaT
    products["price"] = products["price"].fillna(products["min_price"].fillna(100_000))
    for _ in range(4):  # a few runs' worth of applied changes
        d = evaluate(products, observations, rules, now=NOW, currency="RUB")
        moves = d.changing()
        if moves.mean() < changing / 10:
            break
        price = products["price"].to_numpy(dtype=np.int64)
        products["price"] = pd.array(np.where(moves, d.new, price), dtype="Int64")
    rng = np.random.default_rng(seed)
    off = rng.random(n) < changing
    price = products["price"].to_numpy(dtype=np.int64)
    products["price"] = pd.array(np.where(off, price * 11 // 10, price), dtype="Int64")
    return products, observations


def _tables(products: pd.DataFrame, observations: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The rows of each table, in insert order."""
    stamp = "2026-01-01 00:00:00"
    ids = products["product_id"]
    tags = products["tags"].map(lambda t: json.dumps(t or []))
    codes = observations["competitor"].cat.codes.to_numpy() + 1
    listing_ids = np.arange(1, len(observations) + 1)
    observed = observations["observed_at"].dt.tz_convert(None)
    return {
        "products": pd.DataFrame(
            {
                "id": ids, "sku": products["sku"], "category": products["category"].astype(str),
                "brand": products["brand"].astype(str), "tags": tags, "currency": "RUB",
                "price": products["price"], "stock": products["stock"],
                "map_price": products["map_price"], "min_price": products["min_price"],
                "max_price": products["max_price"], "created_at": stamp, "updated_at": stamp,
            }
        ),
        "suppliers": pd.DataFrame({"id": [1], "name": ["s"], "priority": [0], "created_at": [stamp]}),
        "supplier_offers": pd.DataFrame(
            {
                "supplier_id": 1, "key": products["sku"], "product_id": ids, "currency": "RUB",
                "cost": products["cost"], "stock_qty": 5,
                "available": products["supplier_available"].fillna(True).astype(bool),
                "seen_at": stamp, "updated_at": stamp,
            }
        ),
        "competitors": pd.DataFrame(
            {
                "id": range(1, len(COMPETITORS) + 1), "name": COMPETITORS, "domain": COMPETITORS,
                "is_self": False, "created_at": stamp,
            }
        ),
        "listings": pd.DataFrame(
            {
                "id": listing_ids, "product_id": observations["product_id"], "competitor_id": codes,
                "url": "u" + pd.Series(listing_ids).astype(str), "match_method": "manual",
                "confidence": 1.0, "active": True, "created_at": stamp,
                "status": "accepted", "evidence": "[]",
            }
        ),
        "observations": pd.DataFrame(
            {
                "listing_id": listing_ids, "observed_at": observed.dt.strftime("%Y-%m-%d %H:%M:%S.%f"),
                "status": "ok", "price": observations["price"], "currency": "RUB",
                "availability": np.where(observations["in_stock"], "in_stock", "out_of_stock"),
                "is_anomaly": False, "is_mismatch": False,
            }
        ),
    }  # fmt: skip


def fill_database(engine: Engine, products: pd.DataFrame, observations: pd.DataFrame) -> None:
    """Write the catalog with the fastest plain path of each database."""
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        raw: Any = conn.connection.driver_connection
        for table, frame in _tables(products, observations).items():
            columns = ", ".join(frame.columns)
            if engine.dialect.name == "postgresql":
                for start in range(0, len(frame), 500_000):
                    text = frame.iloc[start : start + 500_000].to_csv(header=False, index=False)
                    with (
                        raw.cursor() as cur,
                        cur.copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy,
                    ):
                        copy.write(text)
                continue
            marks = ", ".join("?" * len(frame.columns))
            for start in range(0, len(frame), 500_000):  # bounds the Python objects alive
                part = frame.iloc[start : start + 500_000]
                plain = part.astype(object).where(part.notna(), None)
                raw.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                    plain.itertuples(index=False, name=None),
                )
    if engine.dialect.name == "postgresql":
        # a database in use has been vacuumed (autovacuum follows inserts): without this
        # the timed runs would set the hint bits of 10,000,000 fresh rows and race the
        # autovacuum and checkpoint that the bulk load sets off
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text_sql("VACUUM (ANALYZE)"))
            conn.execute(text_sql("CHECKPOINT"))


def text_sql(statement: str) -> Any:
    from sqlalchemy import text

    return text(statement)


def storage_bytes(engine: Engine) -> int:
    """Bytes the run tables take: the SQLite file (checkpointed) or PostgreSQL relations."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            tables = ("repricing_runs", "price_changes", "repricing_run_inputs")
            return sum(
                int(conn.execute(text_sql(f"SELECT pg_total_relation_size('{t}')")).scalar_one())
                for t in tables
            )
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
        free = conn.exec_driver_sql("PRAGMA freelist_count").scalar_one()
        size = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
        return int((pages - free) * size)


def time_runs(engine: Engine, folder: Path, label: str) -> dict[str, float]:
    """A dry run and an applied run (with auto-approval) on ``engine``, timed in a
    fresh child process so that its peak memory is the runs' own (not this process's
    catalog building); seconds, the storage one run added and the child's peak RSS."""
    url = engine.url.render_as_string(hide_password=False)
    (folder / f"{label}.toml").write_text(
        f'[database]\nurl = "{url}"\n[pricing]\nrules_dir = "{folder / "rules"}"\n'
        'max_changed_share = "100%"\nmax_median_change = "100%"\n',
        encoding="utf-8",
    )
    child = subprocess.run(
        [sys.executable, __file__, "--child-run", str(folder / f"{label}.toml"), label],
        check=True,
        capture_output=True,
        text=True,
    )
    lines = child.stdout.strip().splitlines()
    print(*lines[:-1], sep="\n")
    result: dict[str, float] = json.loads(lines[-1])
    return result


def child_run(config: Path, label: str) -> None:
    """The timed part of :func:`time_runs`, in the child: prints one JSON line last."""
    from repricer.config import load_settings
    from repricer.db import make_engine
    from repricer.flow import apply_repricing
    from repricer.pricing import reprice

    settings = load_settings(config)
    engine = make_engine(settings.database.url)
    before = storage_bytes(engine)
    started, cpu = time.perf_counter(), time.process_time()
    dry = reprice(settings, engine, now=NOW)
    dry_s, dry_cpu = time.perf_counter() - started, time.process_time() - cpu
    stored = storage_bytes(engine) - before
    started, cpu = time.perf_counter(), time.process_time()
    applied = apply_repricing(settings, engine, now=NOW)
    apply_s, apply_cpu = time.perf_counter() - started, time.process_time() - cpu
    changing = dry.summary["proposed"] + dry.summary["needs_approval"]
    print(
        f"{label}: dry run {dry_s:.1f} s ({len(dry.stored):,} rows stored, {changing:,} changing "
        f"of {dry.summary['products']:,}), applied run with auto-approval {apply_s:.1f} s "
        f"({applied.approved:,} approved), one run stores {stored / 2**20:.1f} MiB, "
        f"peak RSS {peak_rss_mib():.0f} MiB"
    )
    result = {
        f"{label}_dry_run_s": round(dry_s, 2),
        f"{label}_apply_s": round(apply_s, 2),
        f"{label}_dry_run_cpu_s": round(dry_cpu, 2),  # this process only (not the server's)
        f"{label}_apply_cpu_s": round(apply_cpu, 2),
        f"{label}_run_storage_mib": round(stored / 2**20, 1),
        f"{label}_changing_share": round(changing / dry.summary["products"], 4),
        f"{label}_peak_rss_mib": round(peak_rss_mib(), 1),
    }
    print(json.dumps(result))


def time_databases(n: int, per: int, rules: list[Rule], postgres: bool) -> dict[str, float]:
    from repricer.db import make_engine

    products, observations = steady_catalog(n, per, rules, changing=0.05)
    folder = Path(tempfile.mkdtemp(prefix="repricer-bench-"))
    (folder / "rules").mkdir()
    (folder / "rules" / "default.toml").write_text(RULES, encoding="utf-8")
    result: dict[str, float] = {}
    try:
        engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
        fill_database(engine, products, observations)
        result |= time_runs(engine, folder, "sqlite")
        engine.dispose()
        if postgres:
            from tests.support.postgres import throwaway_cluster

            with throwaway_cluster() as url:
                engine = make_engine(url)
                fill_database(engine, products, observations)
                result |= time_runs(engine, folder, "postgres")
                engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="products (default 1,000,000)")
    parser.add_argument("--per", type=int, default=5, help="observations per product")
    parser.add_argument("--sample", type=int, default=5000, help="products priced by the reference")
    parser.add_argument(
        "--db-n",
        type=int,
        default=None,
        help="products in the database runs (default --n; 0: skip)",
    )
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--child-run", nargs=2, metavar=("CONFIG", "LABEL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_run:
        child_run(Path(args.child_run[0]), args.child_run[1])
        return
    db_n = args.n if args.db_n is None else args.db_n
    rules = parse_rules(RULES, Path("bench.toml"))
    products, observations = make_catalog(args.n, args.per)
    warm_products, warm_observations = make_catalog(1000, args.per, seed=3)
    evaluate(warm_products, warm_observations, rules, now=NOW, currency="RUB")  # imports, tables
    runs = []
    for _ in range(3):  # the median of three: the machine is shared and noisy
        started = time.perf_counter()
        decisions = evaluate(products, observations, rules, now=NOW, currency="RUB")
        runs.append(time.perf_counter() - started)
        if len(runs) < 3:
            del decisions
    ours = sorted(runs)[1]
    engine_mib = engine_peak_mib(products, observations, rules)
    started = time.perf_counter()
    shown = decision_frame(decisions.take(np.flatnonzero(decisions.worth_storing())))
    explain_s = time.perf_counter() - started
    per_product = time_reference(products, observations, rules, min(args.sample, args.n))
    baseline = per_product * args.n
    statuses = shown["status"].value_counts().to_dict()
    print(
        f"engine:    {args.n:,} products x {args.per} observations in {ours:.2f} s "
        f"(+ {explain_s:.2f} s to explain the {len(shown):,} changed or skipped rows)"
    )
    print(
        f"reference: {per_product * 1e6:.1f} us/product on {min(args.sample, args.n):,} -> {baseline:.1f} s extrapolated"
    )
    print(f"ratio:     {baseline / ours:.1f}x; stored statuses {statuses}")
    print(f"memory:    the engine allocates at most {engine_mib:.0f} MiB beside its inputs")
    print(f"example:   {shown['explanation'].iloc[0]}")
    result: dict[str, Any] = {
        "products": args.n,
        "observations": args.n * args.per,
        "engine_s": round(ours, 3),
        "engine_runs_s": [round(run, 3) for run in runs],
        "engine_peak_mib": round(engine_mib, 1),
        "explain_stored_rows_s": round(explain_s, 3),
        "reference_s_extrapolated": round(baseline, 1),
        "ratio": round(baseline / ours, 1),
    }
    del products, observations, decisions, shown
    if db_n:
        result["db_products"] = db_n
        result |= time_databases(db_n, args.per, rules, postgres=not args.no_postgres)
        stores = [v for k, v in result.items() if k.endswith("_run_storage_mib")]
        result["run_storage_mib"] = max(stores)  # of the two databases
        runs = [v for k, v in result.items() if k.endswith("_peak_rss_mib")]
        result["peak_rss_mib"] = max(runs)  # of the runs through the database
    result["bench_peak_rss_mib"] = round(peak_rss_mib(), 1)  # this process: catalogs, engine
    result["load_average_1m"] = round(os.getloadavg()[0], 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
