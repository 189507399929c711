"""SKU -> storefront id cache kept in ``products.storefront_id``.

Ids are text: ``"123"`` for a product, ``"45:123"`` for a variant (parent product id,
then variant id). A catalog import may fill them; connectors resolve the missing ones
once and store them here, so later pushes need no lookups.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import Engine, Table, bindparam, select, update

from repricer.db.models import Product

_CHUNK = 500


def load_storefront_ids(engine: Engine, skus: Iterable[str]) -> dict[str, str]:
    """Known ids of the given SKUs (SKUs without one are absent)."""
    wanted = list(dict.fromkeys(skus))
    found: dict[str, str] = {}
    with engine.connect() as conn:
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            rows = conn.execute(
                select(Product.sku, Product.storefront_id).where(
                    Product.sku.in_(chunk), Product.storefront_id.is_not(None)
                )
            )
            found.update({sku: sid for sku, sid in rows if sid})
    return found


def save_storefront_ids(engine: Engine, ids: Mapping[str, str]) -> None:
    """Store resolved ids by SKU (one transaction)."""
    if not ids:
        return
    table = Product.__table__
    assert isinstance(table, Table)
    stmt = (
        update(table)
        .where(table.c.sku == bindparam("b_sku"))
        .values(storefront_id=bindparam("b_sid"))
    )
    with engine.begin() as conn:
        conn.execute(stmt, [{"b_sku": sku, "b_sid": sid} for sku, sid in ids.items()])


def split_id(storefront_id: str) -> tuple[str | None, str]:
    """``"45:123"`` -> ``("45", "123")``; ``"123"`` -> ``(None, "123")``."""
    parent, _, own = storefront_id.rpartition(":")
    return (parent or None), own
