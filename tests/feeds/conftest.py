"""Feed test helpers: products to match, YML builders, reading back supplier offers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from repricer.db.models import FeedSync, Product, Supplier, SupplierOffer, utcnow
from repricer.synthetic.feeds import FeedOffer, yml_feed

FEEDS = Path(__file__).parent.parent / "fixtures" / "feeds"


@pytest.fixture
def add_products(engine: Engine) -> Callable[..., None]:
    """``add_products("A-1", "A-2", gtins={"A-1": "4601234567890"})``."""

    def add(*skus: str, gtins: dict[str, str] | None = None) -> None:
        now = utcnow()
        rows = [
            {
                "sku": sku,
                "gtin": (gtins or {}).get(sku),
                "tags": [],
                "created_at": now,
                "updated_at": now,
            }
            for sku in skus
        ]
        with engine.begin() as conn:
            conn.execute(insert(Product), rows)

    return add


def yml(offers: Iterable[tuple[str, str, int | None]], *, encoding: str = "UTF-8") -> bytes:
    """A YML catalog of ``(id, price as written, count)`` offers, all available."""
    listed = (
        FeedOffer(oid, price_text=price, stock=count, name=f"Товар {oid}", available=True)
        for oid, price, count in offers
    )
    return yml_feed(listed, encoding=encoding, shop="Тест", date="2026-11-23 10:00")


def supplier_toml(name: str, source: str, fmt: str = "yml", **extra: Any) -> str:
    """A ``[[suppliers]]`` table; ``source`` is a URL (http...) or a path."""
    where = "url" if source.startswith("http") else "path"
    lines = ["[[suppliers]]", f'name = "{name}"', f'{where} = "{source}"', f'format = "{fmt}"']
    for key, value in extra.items():
        if isinstance(value, str):
            lines.append(f'{key} = "{value}"')
        elif isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, dict):
            inner = ", ".join(f'{k} = "{v}"' for k, v in value.items())
            lines.append(f"{key} = {{ {inner} }}")
        else:
            lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n\n"


def stored_offers(engine: Engine, supplier: str) -> dict[str, dict[str, Any]]:
    """``{key: row}`` of a supplier's stored offers."""
    stmt = (
        select(SupplierOffer.__table__)
        .join(Supplier.__table__, Supplier.id == SupplierOffer.supplier_id)
        .where(Supplier.name == supplier)
    )
    with engine.connect() as conn:
        return {row.key: dict(row._mapping) for row in conn.execute(stmt)}


def feed_syncs(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(FeedSync.__table__).order_by(FeedSync.id))
        return [dict(r._mapping) for r in rows]
