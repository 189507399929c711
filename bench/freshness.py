"""Storefront freshness under the scheduler, against a WooCommerce-contract storefront.

A supplier of N products publishes, every simulated 15 minutes, a full feed (cost and
stock) and a stock-only file, each with an ETag; each publication changes 1% of costs
and 1% of stock levels. The real scheduler (`repricer.scheduler.run_scheduler`,
speed-compressed) polls both with conditional GETs, reprices (cost + 20%, so the right
price is known exactly), auto-approves and pushes prices; stock goes through the
event-driven stock push. The storefront is the WooCommerce contract server of the test
suite on 127.0.0.1 (batches of 100, read-back after every push). Evenly spaced samples
compare the storefront with the supplier's current data:

- current share: price cells (in-stock items) and stock cells (quantity and status of
  every item) equal to the right value, over all samples;
- phantom in-stock: items shown in stock that the supplier has none of, at the end of
  each period (just before the next publication);
- orders for missing goods: at every sample, orders land uniformly on items the
  storefront shows in stock; the share placed for items the supplier has none of;
- stock-out to storefront: real seconds from the sync that saw a stock-out (its
  finish) to the storefront showing it, 95th percentile.

Baseline, from the same run: an hourly batch job (storefront = supplier data as of the
last full hour; a stock-out waits for the next batch, counted in real-world seconds).
Prints both, then one JSON object on the last line.

    .venv/bin/python bench/freshness.py [--n 1000] [--periods 6] [--speed 15]
                                        [--stock-mode quantity|off]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, select, union_all

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from repricer.catalog import import_catalog
from repricer.config import Settings, load_settings
from repricer.db import make_engine
from repricer.db.models import FeedSync, StockSync
from repricer.loopback import LoopbackServer, Request, Response
from repricer.scheduler import run_scheduler
from repricer.synthetic.feeds import FeedOffer, csv_feed
from repricer.workspace import init_workspace
from tests.storefront.fakes import FakeWooCommerce

PERIOD_S = 900  # one simulated supplier publication interval: 15 minutes
MARKUP = 1.2
KEY, SECRET = "ck_bench", "cs_bench"
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
    """The supplier's published files: costs (kopecks) and stock, changed by publish()."""

    def __init__(self, n: int, seed: int = 7) -> None:
        self.rng = np.random.default_rng(seed)
        self.skus = [f"SKU-{i:06d}" for i in range(n)]
        self.cost = self.rng.integers(10, 500, n) * 1000  # whole tens of rubles: x1.2 is exact
        self.stock = np.where(self.rng.random(n) < 0.1, 0, self.rng.integers(1, 50, n))
        self.history: list[tuple[np.ndarray, np.ndarray]] = [(self.cost.copy(), self.stock.copy())]
        self.published_at: list[float] = [time.time()]
        self.stockouts: list[list[str]] = [[]]
        self.lock = threading.Lock()
        self.full, self.stock_only = self._render()

    def publish(self) -> None:
        n = len(self.skus)
        k = max(1, n // 100)
        with self.lock:
            moved = self.rng.choice(n, k, replace=False)
            factor = 1 + self.rng.choice([-0.04, -0.02, 0.02, 0.04], k)
            self.cost[moved] = np.round(self.cost[moved] * factor / 1000).astype(np.int64) * 1000
            flipped = self.rng.choice(n, k, replace=False)
            went_out = [self.skus[i] for i in flipped if self.stock[i] > 0]
            self.stock[flipped] = np.where(self.stock[flipped] > 0, 0, self.rng.integers(1, 50, k))
            self.history.append((self.cost.copy(), self.stock.copy()))
            self.stockouts.append(went_out)
            self.published_at.append(time.time())
            self.full, self.stock_only = self._render()

    def _render(self) -> tuple[bytes, bytes]:
        offers = [
            FeedOffer(s, cost=int(c), stock=int(q))
            for s, c, q in zip(self.skus, self.cost, self.stock, strict=True)
        ]
        return (
            csv_feed(offers, columns={"sku": "sku", "cost": "cost", "stock": "stock"}),
            csv_feed(offers, columns={"sku": "sku", "stock": "stock"}),
        )

    def answer(self, request: Request) -> Response:
        with self.lock:
            tag = f'"{len(self.history)}"'
            if request.headers.get("if-none-match") == tag:
                return Response(304, headers={"ETag": tag})
            body = self.stock_only if request.path.endswith("stock.csv") else self.full
            return Response(200, body, {"Content-Type": "text/csv", "ETag": tag})


def write_workspace(
    folder: Path, supplier: Supplier, feed_url: str, shop_url: str, args: argparse.Namespace
) -> Settings:
    stock_source = (
        f'stock_url = "{feed_url}/stock.csv"\nstock_every = "{args.stock_every}"\n'
        if args.stock_mode != "off"
        else ""
    )
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
url = "{feed_url}/feed.csv"
format = "csv"
delimiter = ";"
every = "{args.feed_every}"
max_cost_change_share = "50%"
{stock_source}[storefront]
kind = "woocommerce"
auto_push = true
[storefront.woocommerce]
url = "{shop_url}"
[storefront.stock]
mode = "{args.stock_mode}"
debounce = "{args.stock_debounce}"
[scheduler]
reprice_debounce = "{args.debounce}"
""",
        encoding="utf-8",
    )
    (folder / "bench-rules").mkdir()
    (folder / "bench-rules" / "rules.toml").write_text(RULES, encoding="utf-8")
    init_workspace(folder)
    catalog = folder / "catalog.csv"
    rows = [
        f"{s},{c * MARKUP / 100:.2f},{1000 + i}"
        for i, (s, c) in enumerate(zip(supplier.skus, supplier.cost, strict=True))
    ]
    catalog.write_text("sku,price,storefront_id\n" + "\n".join(rows) + "\n", encoding="utf-8")
    settings = load_settings(folder / "config.toml")
    engine = make_engine(settings.database.url)
    import_catalog(settings, engine, catalog)
    engine.dispose()
    return settings


def open_shop(server: LoopbackServer, supplier: Supplier) -> FakeWooCommerce:
    """The storefront as it was before the run: right prices, stock as last known."""
    shop = FakeWooCommerce(server, KEY, SECRET)
    for i, (sku, cost, qty) in enumerate(
        zip(supplier.skus, supplier.cost.tolist(), supplier.stock.tolist(), strict=True)
    ):
        shop.add(1000 + i, sku, f"{cost * MARKUP / 100:.2f}")
        shop.items[1000 + i].update(
            manage_stock=True, stock_quantity=qty, stock_status="instock" if qty else "outofstock"
        )
    return shop


Shown = dict[str, tuple[int, int, bool]]  # sku -> (price, quantity, in stock)


def read_shop(shop: FakeWooCommerce) -> Shown:
    with shop.lock:
        return {
            item["sku"]: (
                round(float(item["regular_price"]) * 100),
                int(item["stock_quantity"] or 0),
                item["stock_status"] != "outofstock",
            )
            for item in shop.items.values()
        }


def score(
    shown: Shown, skus: list[str], cost: np.ndarray, stock: np.ndarray
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


def orders(
    shown: Shown, skus: list[str], stock: np.ndarray, rng: np.random.Generator, k: int
) -> tuple[int, int]:
    """(orders, orders for items the supplier has none of): ``k`` orders uniformly on
    the items the storefront shows in stock."""
    offered = [i for i, sku in enumerate(skus) if shown.get(sku, (0, 0, False))[2]]
    if not offered:
        return 0, 0
    picked = rng.choice(offered, k)
    return k, int((stock[picked] == 0).sum())


def baseline_shown(supplier: Supplier, period: int) -> Shown:
    """An hourly batch: the storefront shows the supplier data of the last full hour."""
    old_cost, old_stock = supplier.history[hour_start(period)]
    return {
        s: (round(c * MARKUP), q, q > 0)
        for s, c, q in zip(supplier.skus, old_cost.tolist(), old_stock.tolist(), strict=True)
    }


def hour_start(period: int) -> int:
    """The publication the hourly batch last ran after (just after the hour's first)."""
    return (period - 1) // 4 * 4 + 1 if period >= 1 else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="products")
    parser.add_argument("--periods", type=int, default=6, help="simulated 15-minute periods")
    parser.add_argument(
        "--speed",
        type=float,
        default=15.0,
        help="time compression (processing time is not compressed: at 60 a 10 s repricing "
        "counts as 10 simulated minutes)",
    )
    parser.add_argument("--samples", type=int, default=20, help="samples per period")
    parser.add_argument("--orders", type=int, default=20, help="orders per sample")
    parser.add_argument("--feed-every", default="1m", help="full feed poll interval (ETag)")
    parser.add_argument("--stock-every", default="30s", help="stock-only source poll interval")
    parser.add_argument("--debounce", default="10s", help="reprice debounce")
    parser.add_argument("--stock-debounce", default="1s", help="stock push debounce (real time)")
    parser.add_argument("--stock-mode", default="quantity", choices=["quantity", "status", "off"])
    args = parser.parse_args()
    supplier = Supplier(args.n)
    with (
        tempfile.TemporaryDirectory() as tmp,
        LoopbackServer() as feeds,
        LoopbackServer() as shop_server,
    ):
        feeds.fallback = supplier.answer
        shop = open_shop(shop_server, supplier)
        folder = Path(tmp)
        settings = write_workspace(folder, supplier, feeds.url(""), shop_server.url(""), args)
        result = simulate(settings, shop, supplier, args)
    print_result(args, result)


def simulate(
    settings: Settings, shop: FakeWooCommerce, supplier: Supplier, args: argparse.Namespace
) -> dict[str, float | int | None]:
    import logging
    import os

    os.environ["REPRICER_WOOCOMMERCE_KEY"], os.environ["REPRICER_WOOCOMMERCE_SECRET"] = KEY, SECRET
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    engine = make_engine(settings.database.url)
    stop = threading.Event()
    thread = threading.Thread(
        target=run_scheduler,
        args=(settings,),
        kwargs={"stop_event": stop, "speed": args.speed, "engine": engine},
    )
    rng = np.random.default_rng(11)
    period = PERIOD_S / args.speed
    ours, base = [0, 0, 0], [0, 0, 0]
    our_orders, base_orders = [0, 0], [0, 0]
    end_phantom = base_end_phantom = 0
    thread.start()
    try:
        time.sleep(min(5.0, period / 3))  # first syncs and pushes of the unchanged data
        for p in range(1, args.periods + 1):
            supplier.publish()
            start = time.monotonic()
            for s in range(args.samples):
                time.sleep(max(0.0, start + (s + 0.5) * period / args.samples - time.monotonic()))
                shown, cost, stock = read_shop(shop), *supplier.history[-1]
                then = baseline_shown(supplier, p)
                for acc, view in ((ours, shown), (base, then)):
                    got = score(view, supplier.skus, cost, stock)
                    for i in range(3):
                        acc[i] += got[i]
                for acc, view in ((our_orders, shown), (base_orders, then)):
                    placed, missing = orders(view, supplier.skus, stock, rng, args.orders)
                    acc[0] += placed
                    acc[1] += missing
            time.sleep(max(0.0, start + period - 0.05 * period / args.samples - time.monotonic()))
            end_phantom += score(read_shop(shop), supplier.skus, *supplier.history[-1])[2]
            base_end_phantom += score(
                baseline_shown(supplier, p), supplier.skus, *supplier.history[-1]
            )[2]
        time.sleep(min(5.0, period / 3))  # let the last stock-outs arrive
    finally:
        stop.set()
        thread.join()
    latencies, unseen = stockout_latencies(engine, shop, supplier)
    engine.dispose()
    return {
        "current_share_pct": 100 * ours[0] / ours[1],
        "phantom_in_stock_at_period_end": end_phantom,
        "orders_for_missing_pct": 100 * our_orders[1] / max(1, our_orders[0]),
        "stockout_to_storefront_p95_s": _p95(latencies),
        "stockout_to_storefront_median_s": _median(latencies),
        "stockouts": len(latencies) + unseen,
        "stockouts_never_shown": unseen,
        "baseline_current_share_pct": 100 * base[0] / base[1],
        "baseline_phantom_in_stock_at_period_end": base_end_phantom,
        "baseline_orders_for_missing_pct": 100 * base_orders[1] / max(1, base_orders[0]),
        "baseline_stockout_to_storefront_p95_s": _p95(baseline_latencies(supplier)),
    }


def stockout_latencies(
    engine: Engine, shop: FakeWooCommerce, supplier: Supplier
) -> tuple[list[float], int]:
    """Real seconds from the end of the first sync that applied each publication (the
    first applied sync finishing after it; the full feed and the stock-only source both
    carry stock) to the storefront first showing each of its stock-outs; and how many
    never showed."""
    applied = union_all(
        select(FeedSync.started_at, FeedSync.finished_at).where(FeedSync.status == "ok"),
        select(StockSync.started_at, StockSync.finished_at).where(StockSync.status == "ok"),
    )
    with engine.connect() as conn:
        syncs = sorted(_ts(done) for _, done in conn.execute(applied) if done is not None)
    latencies, unseen = [], 0
    for published, went_out in zip(supplier.published_at[1:], supplier.stockouts[1:], strict=True):
        saw = next((done for done in syncs if done >= published), None)
        for sku in went_out:
            shown = next(
                (
                    t
                    for t, s, in_stock in shop.stock_log
                    if s == sku and t >= published and not in_stock
                ),
                None,
            )
            if saw is None or shown is None:
                unseen += 1
            else:
                latencies.append(max(0.0, shown - saw))
    return latencies, unseen


def baseline_latencies(supplier: Supplier) -> list[float]:
    """Hourly batch: a stock-out published in period p shows at the next batch."""
    out = []
    for p in range(1, len(supplier.history)):
        wait = next(q for q in range(p, p + 5) if hour_start(q) == q) - p
        out += [float(wait * PERIOD_S)] * len(supplier.stockouts[p])
    return out


def _ts(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _p95(values: list[float]) -> float | None:
    return round(float(np.percentile(values, 95)), 2) if values else None


def _median(values: list[float]) -> float | None:
    return round(float(np.median(values)), 2) if values else None


def print_result(args: argparse.Namespace, result: dict[str, float | int | None]) -> None:
    print(
        f"{args.n} products, {args.periods} x 15 min at speed {args.speed:g}; full feed every "
        f"{args.feed_every}, stock source every {args.stock_every}, stock mode {args.stock_mode}"
    )
    for label, prefix in (("scheduler   ", ""), ("hourly batch", "baseline_")):
        print(
            f"{label}: {result[prefix + 'current_share_pct']:.2f}% current, "
            f"{result[prefix + 'phantom_in_stock_at_period_end']} phantom in-stock at period "
            f"ends, {result[prefix + 'orders_for_missing_pct']:.2f}% of orders for missing "
            f"goods, stock-out to storefront p95 {result[prefix + 'stockout_to_storefront_p95_s']} s"
        )
    out = {
        "n": args.n,
        "periods": args.periods,
        "speed": args.speed,
        "stock_mode": args.stock_mode,
        **{k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()},
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
