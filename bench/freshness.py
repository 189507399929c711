"""Storefront freshness under the scheduler, in compressed time.

A supplier feed of N products is served from 127.0.0.1; every simulated 15 minutes the
supplier publishes a new feed in which 1% of costs and 1% of stock levels changed. The real
scheduler (`repricer.scheduler.run_scheduler`, speed-compressed) syncs it, reprices
(cost + 20%, so the right price is known exactly), auto-approves and pushes to the file
storefront. Evenly spaced samples compare the storefront with what the rules would set
from the supplier's current feed:

- current share: storefront cells (price of in-stock items, stock of every item) equal
  to the right value, over all samples;
- phantom in-stock: storefront rows shown available while the supplier has none, over all
  samples and at the end of each period.

Baseline, from the same run: an hourly batch job (storefront = supplier data as of the
last full hour). Prints both, then one JSON object on the last line.

    .venv/bin/python bench/freshness.py [--n 1000] [--periods 6] [--speed 60]
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from repricer.catalog import import_catalog
from repricer.config import Settings, load_settings
from repricer.db import make_engine
from repricer.demo.sites import LoopbackServer, Reply
from repricer.scheduler import run_scheduler
from repricer.workspace import init_workspace

PERIOD_S = 900  # one simulated supplier publication interval: 15 minutes
MARKUP = 1.2
RULES = """[defaults]
min_margin = "0%"
max_change = "100%"
rounding = "none"
we_out_of_stock = "keep"
no_competitors = "cost_plus"

[[rule]]
name = "cost-plus"
strategy = "cost_plus"
markup = "20%"
"""


class Supplier:
    """The supplier's published feed: costs (kopecks) and stock, changed by publish()."""

    def __init__(self, n: int, seed: int = 7) -> None:
        self.rng = np.random.default_rng(seed)
        self.skus = [f"SKU-{i:06d}" for i in range(n)]
        self.cost = self.rng.integers(10, 500, n) * 1000  # whole tens of rubles: x1.2 is exact
        self.stock = np.where(self.rng.random(n) < 0.1, 0, self.rng.integers(1, 50, n))
        self.history: list[tuple[np.ndarray, np.ndarray]] = [(self.cost.copy(), self.stock.copy())]
        self.lock = threading.Lock()
        self.body = self._render()

    def publish(self) -> None:
        n = len(self.skus)
        k = max(1, n // 100)
        with self.lock:
            moved = self.rng.choice(n, k, replace=False)
            factor = 1 + self.rng.choice([-0.04, -0.02, 0.02, 0.04], k)
            self.cost[moved] = np.round(self.cost[moved] * factor / 1000).astype(np.int64) * 1000
            flipped = self.rng.choice(n, k, replace=False)
            self.stock[flipped] = np.where(self.stock[flipped] > 0, 0, self.rng.integers(1, 50, k))
            self.history.append((self.cost.copy(), self.stock.copy()))
            self.body = self._render()

    def _render(self) -> bytes:
        lines = ["sku;cost;stock"]
        lines += [
            f"{s};{c // 100},{c % 100:02d};{q}"
            for s, c, q in zip(self.skus, self.cost, self.stock, strict=True)
        ]
        return ("\n".join(lines) + "\n").encode("cp1251")

    def route(self, path: str, _headers: dict[str, str]) -> Reply:
        with self.lock:
            return Reply(body=self.body, content_type="text/csv")


def write_workspace(
    folder: Path, supplier: Supplier, url: str, feed_every: str, debounce: str
) -> Settings:
    (folder / "config.toml").write_text(
        f"""[database]
url = "sqlite:///repricer.db"
[pricing]
rules_dir = "bench-rules"
max_changed_share = "90%"
max_median_change = "50%"
[pricing.approval]
auto_approve_band = "100%"
[[suppliers]]
name = "bench"
url = "{url}"
format = "csv"
delimiter = ";"
every = "{feed_every}"
max_cost_change_share = "50%"
[storefront]
auto_push = true
[storefront.file]
formats = ["csv"]
[scheduler]
reprice_debounce = "{debounce}"
""",
        encoding="utf-8",
    )
    (folder / "bench-rules").mkdir()
    (folder / "bench-rules" / "rules.toml").write_text(RULES, encoding="utf-8")
    init_workspace(folder)
    catalog = folder / "catalog.csv"
    rows = [
        f"{s},{c * MARKUP / 100:.2f}" for s, c in zip(supplier.skus, supplier.cost, strict=True)
    ]
    catalog.write_text("sku,price\n" + "\n".join(rows) + "\n", encoding="utf-8")
    settings = load_settings(folder / "config.toml")
    engine = make_engine(settings.database.url)
    import_catalog(settings, engine, catalog)
    engine.dispose()
    return settings


def read_storefront(folder: Path) -> dict[str, tuple[int, int, bool]] | None:
    files = sorted(folder.glob("*.csv"))
    if not files:
        return None
    with files[0].open(encoding="utf-8", newline="") as fh:
        return {
            r["sku"]: (
                round(float(r["price"]) * 100),
                int(r["stock"] or 0),
                r["available"].lower() in ("1", "true", "yes"),
            )
            for r in csv.DictReader(fh)
        }


def score(
    shown: dict[str, tuple[int, int, bool]], skus: list[str], cost: np.ndarray, stock: np.ndarray
) -> tuple[int, int, int]:
    """(right cells, all cells, phantom in-stock rows)."""
    right = total = phantom = 0
    for sku, c, q in zip(skus, cost.tolist(), stock.tolist(), strict=True):
        price, shown_stock, available = shown.get(sku, (0, 0, False))
        total += 1
        right += shown_stock == q and available == (q > 0)
        if q > 0:
            total += 1
            right += price == round(c * MARKUP)
        phantom += available and q == 0
    return right, total, phantom


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="products")
    parser.add_argument("--periods", type=int, default=6, help="simulated 15-minute periods")
    parser.add_argument("--speed", type=float, default=60.0, help="time compression")
    parser.add_argument("--samples", type=int, default=10, help="samples per period")
    parser.add_argument("--feed-every", default="5m", help="scheduler feed sync interval")
    parser.add_argument("--debounce", default="30s", help="reprice debounce")
    args = parser.parse_args()
    supplier = Supplier(args.n)
    with tempfile.TemporaryDirectory() as tmp, LoopbackServer(supplier.route) as server:
        folder = Path(tmp)
        settings = write_workspace(
            folder, supplier, server.url("/feed.csv"), args.feed_every, args.debounce
        )
        result = simulate(settings, folder / "storefront", supplier, args)
    print_result(args, result)


def simulate(
    settings: Settings, storefront: Path, supplier: Supplier, args: argparse.Namespace
) -> dict[str, float]:
    stop = threading.Event()
    thread = threading.Thread(
        target=run_scheduler, args=(settings,), kwargs={"stop_event": stop, "speed": args.speed}
    )
    thread.start()
    period = PERIOD_S / args.speed
    ours = [0, 0, 0]
    base = [0, 0, 0]
    end_phantom = 0
    try:
        deadline = time.monotonic() + 120
        while read_storefront(storefront) is None and time.monotonic() < deadline:
            time.sleep(0.1)
        for p in range(args.periods):
            supplier.publish()
            start = time.monotonic()
            for s in range(args.samples):
                time.sleep(max(0.0, start + (s + 0.5) * period / args.samples - time.monotonic()))
                shown = read_storefront(storefront) or {}
                cost, stock = supplier.history[-1]
                for acc, got in (
                    (ours, score(shown, supplier.skus, cost, stock)),
                    (base, baseline(supplier, p, cost, stock)),
                ):
                    for i in range(3):
                        acc[i] += got[i]
            end_phantom += score(
                read_storefront(storefront) or {}, supplier.skus, *supplier.history[-1]
            )[2]
    finally:
        stop.set()
        thread.join()
    return {
        "current_share_pct": 100 * ours[0] / ours[1],
        "phantom_in_stock": ours[2],
        "phantom_in_stock_at_period_end": end_phantom,
        "baseline_current_share_pct": 100 * base[0] / base[1],
        "baseline_phantom_in_stock": base[2],
    }


def baseline(
    supplier: Supplier, period: int, cost: np.ndarray, stock: np.ndarray
) -> tuple[int, int, int]:
    """An hourly batch: the storefront shows the supplier data of the last full hour."""
    hour_start = period // 4 * 4 + 1  # the batch ran just after the publication of the hour
    old_cost, old_stock = supplier.history[hour_start]
    shown = {
        s: (round(c * MARKUP), q, q > 0)
        for s, c, q in zip(supplier.skus, old_cost.tolist(), old_stock.tolist(), strict=True)
    }
    return score(shown, supplier.skus, cost, stock)


def print_result(args: argparse.Namespace, result: dict[str, float]) -> None:
    print(
        f"{args.n} products, {args.periods} x 15 min at speed {args.speed:g}, feeds every {args.feed_every}, debounce {args.debounce}"
    )
    print(
        f"scheduler:    {result['current_share_pct']:.2f}% current, {result['phantom_in_stock']} phantom in-stock sample rows ({result['phantom_in_stock_at_period_end']} at period ends)"
    )
    print(
        f"hourly batch: {result['baseline_current_share_pct']:.2f}% current, {result['baseline_phantom_in_stock']} phantom in-stock sample rows"
    )
    stale_ours = 100 - result["current_share_pct"]
    stale_base = 100 - result["baseline_current_share_pct"]
    out = {
        "n": args.n,
        "periods": args.periods,
        "speed": args.speed,
        **{k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()},
        "stale_ratio": round(stale_base / stale_ours, 2) if stale_ours else None,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
