"""A small real market for the workspace tests: products with costs, competitor prices,
then a real applied repricing run (the shipped default rules) reviewed by auto-approval."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from repricer.config import Settings, load_settings
from repricer.db.engine import session_scope
from repricer.db.migrate import upgrade
from repricer.db.models import Competitor, Listing, Observation, Product, Supplier, SupplierOffer
from repricer.pricing import reprice
from repricer.review import auto_approve

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# sku: (title, category, brand, our price, cost, lowest competitor price), kopecks
CATALOG = {
    "KT-100": ("Чайник Aurora", "Kitchen", "Aurora", 300000, 150000, 200000),
    "KT-200": ("Kettle Boreal", "Kitchen", "Boreal", 500000, 250000, 400000),
    "KT-300": ("Toaster Aurora", "Kitchen", "Aurora", 200000, 100000, 260000),
    "GD-100": ("Garden hose Boreal", "Garden", "Boreal", 150000, 120000, 100000),
    "GD-200": ("Rake Aurora", "Garden", "Aurora", 100000, 50000, 95000),
}
COMPETITOR = "alpha-shop"


def write_config(folder: Path, db_url: str, extra: str = "") -> Path:
    rules = folder / "rules"
    rules.mkdir(exist_ok=True)
    shutil.copyfile(
        PROJECT_ROOT / "repricer" / "starter" / "rules" / "default.toml", rules / "default.toml"
    )
    path = folder / "config.toml"
    path.write_text(
        f'[database]\nurl = "{db_url}"\n\n[pricing]\nrules_dir = "rules"\nmax_changed_share = "100%"\nmax_median_change = "50%"\n'
        f'[pricing.approval]\nauto_approve_band = "1%"\n\n'
        f'[[competitors]]\nname = "{COMPETITOR}"\ndomain = "alpha.test"\n\n{extra}',
        encoding="utf-8",
    )
    return path


def seed_market(engine: Engine, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    with session_scope(engine) as session:
        shop = Competitor(name=COMPETITOR, domain="alpha.test")
        supplier = Supplier(name="acme")
        session.add_all([shop, supplier])
        session.flush()
        for sku, (title, category, brand, price, cost, theirs) in CATALOG.items():
            item = Product(
                sku=sku, title=title, category=category, brand=brand, price=price, currency="RUB"
            )
            session.add(item)
            session.flush()
            session.add(
                SupplierOffer(
                    supplier_id=supplier.id, key=sku, product_id=item.id, cost=cost, stock_qty=5
                )
            )
            listing = Listing(
                product_id=item.id, competitor_id=shop.id, url=f"https://alpha.test/p/{sku}"
            )
            session.add(listing)
            session.flush()
            for days, extra in ((3, 5000), (0, 0)):
                session.add(
                    Observation(
                        listing_id=listing.id,
                        observed_at=now - timedelta(days=days, minutes=5),
                        status="ok",
                        price=theirs + extra,
                        currency="RUB",
                        availability="in_stock",
                        title=title,
                    )
                )


def build(folder: Path, extra_config: str = "") -> tuple[Settings, int]:
    """A migrated SQLite DB in ``folder`` with the market and one applied, auto-reviewed run.
    Returns (settings, run id)."""
    db_url = f"sqlite:///{folder / 'repricer.db'}"
    upgrade(db_url)
    settings = load_settings(write_config(folder, db_url, extra_config))
    from repricer.db.engine import make_engine

    engine = make_engine(db_url)
    try:
        seed_market(engine)
        result = reprice(settings, engine, apply=True)
        auto_approve(settings, engine, result.run_id)
    finally:
        engine.dispose()
    return settings, result.run_id
