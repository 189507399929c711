"""Benchmark: supplier feed sync into SQLite, ours beside a naive ORM baseline.

Generates a YML feed and a CSV price list of N offers (default 1,000,000) with N
products, then times: the first load, a re-sync of the identical file, a no-change
re-sync (the same offers re-exported with a new catalog date, so the file differs and
each offer's fingerprint is checked) and a 1%-change re-sync of the YML feed, and the
first load of the CSV. The baseline (an ORM object per row, a
SELECT per row to find it, one commit) runs on a sample and is extrapolated to N.
Ends with one JSON line.

    .venv/bin/python bench/feeds.py [--n N] [--sample S]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from repricer.config import Settings, load_settings
from repricer.db import Base, make_engine
from repricer.db.models import Product, Supplier, SupplierOffer, utcnow
from repricer.feeds import sync_feeds
from repricer.feeds.parsers import iter_rows
from repricer.feeds.records import build_record
from repricer.synthetic.feeds import FeedOffer, csv_lines, yml_lines


def offers(n: int, changed_every: int = 0) -> Iterator[FeedOffer]:
    """N offers ``SKU0000000``...; with ``changed_every`` k, every k-th cost moves 5%."""
    for i in range(n):
        cost = 10000 + (i % 5000) * 7
        if changed_every and i % changed_every == 0:
            cost = cost * 105 // 100
        yield FeedOffer(
            f"SKU{i:07d}",
            cost=cost,
            stock=i % 40,
            name=f"Товар номер {i} для теста",
            brand=f"Brand {i % 300}",
            vendor_code=f"V{i:07d}",
            barcode=str(4600000000000 + i),
            available=True,
        )


def write_yml(path: Path, n: int, changed_every: int = 0, date: str = "2026-11-23 10:00") -> None:
    with path.open("w", encoding="utf-8") as out:
        out.writelines(yml_lines(offers(n, changed_every), shop="Bench", date=date))


def write_csv(path: Path, n: int) -> None:
    columns = {"sku": "Артикул", "name": "Наименование", "cost": "Цена", "stock": "Остаток"}
    with path.open("w", encoding="cp1251", newline="") as out:
        out.writelines(csv_lines(offers(n), columns=columns))


def setup(directory: Path, n: int) -> tuple[Settings, Engine]:
    config = directory / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{directory / "bench.db"}"\n\n'
        '[[suppliers]]\nname = "yml"\npath = "feed.yml"\nformat = "yml"\n\n'
        '[[suppliers]]\nname = "csv"\npath = "feed.csv"\nformat = "csv"\n'
    )
    settings = load_settings(config)
    engine = make_engine(settings.database.url)
    Base.metadata.create_all(engine)
    now = utcnow()
    with engine.begin() as conn:
        for start in range(0, n, 50000):
            conn.execute(
                insert(Product),
                [
                    {"sku": f"SKU{i:07d}", "tags": [], "created_at": now, "updated_at": now}
                    for i in range(start, min(n, start + 50000))
                ],
            )
    return settings, engine


def timed(
    settings: Settings, engine: Engine, supplier: str, status: str = "ok"
) -> tuple[float, int]:
    started = time.perf_counter()
    (result,) = sync_feeds(settings, engine, supplier)
    assert result.status == status, result
    return time.perf_counter() - started, result.changed


def baseline(settings: Settings, engine: Engine, path: Path, sample: int) -> float:
    """Seconds per offer of the naive way: parse, then an ORM object per row."""
    supplier = settings.supplier("yml").model_copy(update={"path": path})
    started = time.perf_counter()
    with Session(engine) as session:
        owner = Supplier(name="baseline")
        session.add(owner)
        session.flush()
        for count, (_ref, raw) in enumerate(iter_rows(path, supplier)):
            if count >= sample:
                break
            record = build_record(raw, "sku", "RUB")
            assert not isinstance(record, str)
            offer = session.scalars(
                select(SupplierOffer).filter_by(supplier_id=owner.id, key=record.key)
            ).first()
            if offer is None:
                offer = SupplierOffer(supplier_id=owner.id, key=record.key)
                session.add(offer)
            for name, value in record._asdict().items():
                setattr(offer, name, value)
            offer.product_id = session.scalars(select(Product.id).filter_by(sku=record.key)).first()
            offer.seen_at = offer.updated_at = utcnow()
        session.commit()
    return (time.perf_counter() - started) / sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="offers per feed")
    parser.add_argument("--sample", type=int, default=20_000, help="baseline sample size")
    args = parser.parse_args()
    n = args.n
    with tempfile.TemporaryDirectory(prefix="bench-feeds-") as tmp:
        directory = Path(tmp)
        t0 = time.perf_counter()
        write_yml(directory / "feed.yml", n)
        write_csv(directory / "feed.csv", n)
        settings, engine = setup(directory, n)
        print(f"generated {n:,} offers + products in {time.perf_counter() - t0:.1f} s")

        first_load, _ = timed(settings, engine, "yml")
        identical, _ = timed(settings, engine, "yml", "unchanged")
        write_yml(directory / "feed.yml", n, date="2026-11-23 11:00")
        no_change, changed0 = timed(settings, engine, "yml")
        write_yml(directory / "feed.yml", n, changed_every=100)
        one_pct, changed1 = timed(settings, engine, "yml")
        csv_load, _ = timed(settings, engine, "csv")
        rss_ours = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        sample = min(args.sample, n)
        write_yml(directory / "sample.yml", sample)
        per_offer = baseline(settings, engine, directory / "sample.yml", sample)
        baseline_s = per_offer * n
        engine.dispose()

    ratio = baseline_s / first_load
    print(f"ours: first load {first_load:.1f} s ({n / first_load:,.0f} offers/s)")
    print(f"ours: identical file re-sync {identical:.2f} s")
    print(f"ours: no-change re-sync {no_change:.1f} s, {changed0} rows written")
    print(f"ours: 1%-change re-sync {one_pct:.1f} s, {changed1} rows written")
    print(f"ours: CSV first load {csv_load:.1f} s ({n / csv_load:,.0f} offers/s)")
    print(
        f"baseline (ORM object per row): {1 / per_offer:,.0f} offers/s on {sample:,}, "
        f"extrapolated {baseline_s:.1f} s for {n:,}"
    )
    print(f"ratio {ratio:.1f}x, peak RSS {rss_ours:.0f} MiB")
    print(
        json.dumps(
            {
                "n_offers": n,
                "first_load_s": round(first_load, 2),
                "identical_file_resync_s": round(identical, 2),
                "no_change_resync_s": round(no_change, 2),
                "one_pct_change_resync_s": round(one_pct, 2),
                "csv_first_load_s": round(csv_load, 2),
                "offers_per_s": round(n / first_load),
                "baseline_first_load_s": round(baseline_s, 2),
                "baseline_offers_per_s": round(1 / per_offer),
                "ratio": round(ratio, 1),
                "peak_rss_mib": round(rss_ours),
            }
        )
    )


if __name__ == "__main__":
    main()
