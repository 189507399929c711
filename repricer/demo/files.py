"""The files a demo workspace holds: config.toml, its own rules, catalog and listings.

The config points at the loopback sites started for this run (their ports change every
run). The demo ships its own rules folder so its prices do not move when
``rules/default.toml`` is edited.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from repricer.demo._data import BROWSER_SHOPS, PRODUCTS, SHOPS
from repricer.demo.market import Market
from repricer.demo.sites import BETA_COLUMNS, DemoSites
from repricer.synthetic.pages import SELECTORS

RULES_DIR = "demo-rules"

RULES = """\
# Demo pricing rules: beat the cheapest in-stock competitor by 1%, keep a 12% margin
# over the supplier cost, never move more than 20% in one run, prices end in 9.
[defaults]
min_margin = "12%"
max_change = "20%"
rounding = "ends_in_9"
stale_after = "48h"
no_competitors = "keep"
all_out_of_stock = "keep"
we_out_of_stock = "keep"

[[rule]]
name = "demo"
strategy = "beat_lowest"
beat_by = "1%"
"""

MARKER = "# Written by `repricer demo`"
CONFIG_HEAD = """\
# Written by `repricer demo`: loopback shops and feeds on 127.0.0.1 (ports change every run).
[database]
url = "sqlite:///repricer.db"

[pricing]
rules_dir = "{rules_dir}"
currency = "RUB"
# The demo catalog is tiny, so most of it changes in one run: open the breaker wide.
max_changed_share = "90%"
max_median_change = "20%"

[pricing.approval]
auto_approve_band = "15%"
expire_after = "24h"

[crawl]
autothrottle = false
retries = 0
timeout = "20s"
run_timeout = "5m"
unhealthy_share = "30%"

[storefront]
kind = "file"
auto_push = true

[storefront.file]
path = "storefront"
formats = ["csv", "yml"]

[scheduler]
reprice_debounce = "2m"
misfire_grace = "5m"
"""


def write_config(directory: Path, sites: DemoSites) -> Path:
    """config.toml for this run's sites; returns its path."""
    parts = [CONFIG_HEAD.format(rules_dir=RULES_DIR)]
    parts.append(
        "[[suppliers]]\n"
        'name = "alpha"\n'
        f"url = {_q(sites.feed_url('alpha.yml'))}\n"
        'format = "yml"\n'
        'every = "15m"\n'
    )
    columns = ", ".join(f"{k} = {_q(v)}" for k, v in BETA_COLUMNS.items())
    parts.append(
        "[[suppliers]]\n"
        'name = "beta"\n'
        f"url = {_q(sites.feed_url('beta.csv'))}\n"
        'format = "csv"\n'
        'delimiter = ";"\n'
        f"columns = {{ {columns} }}\n"
        'every = "15m"\n'
    )
    parts.extend(_competitor(shop, sites) for shop in SHOPS)
    path = directory / "config.toml"
    path.write_text("\n".join(parts), encoding="utf-8")
    rules = directory / RULES_DIR
    rules.mkdir(exist_ok=True)
    (rules / "demo.toml").write_text(RULES, encoding="utf-8")
    return path


def is_demo_config(path: Path) -> bool:
    """True if ``path`` is a config the demo wrote (so its folder may be reset)."""
    with path.open(encoding="utf-8", errors="replace") as fh:
        return fh.readline().startswith(MARKER)


def _competitor(shop: str, sites: DemoSites) -> str:
    text = (
        "[[competitors]]\n"
        f"name = {_q(shop)}\n"
        f"domain = {_q(sites.shop_domain(shop))}\n"
        "local = true\n"  # the demo shops run on this machine (loopback)
        f'render = "{"browser" if shop in BROWSER_SHOPS else "http"}"\n'
        'every = "15m"\n'
        "concurrency = 4\n"
        "delay = 0\n"
        'currency = "RUB"\n'
    )
    if shop == "plain-shop":
        text += "[competitors.selectors]\n" + "".join(
            f"{key} = {_q(value) if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}\n"
            for key, value in SELECTORS.items()
        )
    return text


def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a TOML basic string


def write_catalog(directory: Path) -> Path:
    """catalog.csv: our products with their current prices."""
    path = directory / "catalog.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["sku", "title", "brand", "category", "gtin", "price", "currency"])
        for p in PRODUCTS:
            writer.writerow(
                [p.sku, p.title, p.brand, p.category, p.gtin, f"{p.price / 100:.2f}", "RUB"]
            )
    return path


def write_listings(directory: Path, market: Market, sites: DemoSites) -> Path:
    """listings.csv: which competitor page shows each of our products."""
    path = directory / "listings.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["sku", "competitor", "url"])
        for sku, shop in market.listings():
            writer.writerow([sku, shop, sites.page_url(shop, sku)])
    return path
