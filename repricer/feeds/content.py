"""Whether a fetched feed file can be skipped whole: the same bytes, read the same way,
as the last applied sync, with the supplier's offers as that sync left them.

:func:`content_hash` is the SHA-256 of the file keyed by the fingerprint salt (every
setting that decides how the file is read). :func:`unchanged_since` then checks that
applying it again would write nothing: no offer of the supplier written since that sync
finished (a stock-only sync, an accepted hold) and no offer left without a product that
now has one (a catalog import). Otherwise the file is read, offer fingerprints skipping
what is unchanged.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import cast

from sqlalchemy import Connection, Table, func, select

from repricer.db.models import FeedSync, Product, SupplierOffer

_BLOCK = 1 << 20
_offers = cast(Table, SupplierOffer.__table__)
_products = cast(Table, Product.__table__)
_syncs = cast(Table, FeedSync.__table__)


@dataclass(frozen=True)
class AppliedFeed:
    """The last applied feed of a supplier: its content hash, when the sync that wrote
    it finished, and the counts an identical file repeats."""

    content_hash: str
    finished_at: datetime
    seen: int
    skipped: int
    unmapped: int


def content_hash(path: Path, salt: bytes) -> str:
    """Hex SHA-256 of ``salt`` and the file at ``path``."""
    digest = hashlib.sha256(salt)
    with path.open("rb") as file:
        while block := file.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def last_applied(conn: Connection, supplier_id: int) -> AppliedFeed | None:
    """The newest ``ok`` sync of the supplier, if no other ``ok`` or ``unchanged`` sync
    with another content came after it (a 304 keeps the content)."""
    row = conn.execute(
        select(
            _syncs.c.status,
            _syncs.c.content_hash,
            _syncs.c.finished_at,
            _syncs.c.seen,
            _syncs.c.skipped,
            _syncs.c.unmapped,
        )
        .where(_syncs.c.supplier_id == supplier_id, _syncs.c.status.in_(("ok", "unchanged")))
        .order_by(_syncs.c.id.desc())
        .limit(1)
    ).first()
    if row is None or row.content_hash is None:
        return None
    written = conn.execute(
        select(func.max(_syncs.c.finished_at)).where(
            _syncs.c.supplier_id == supplier_id, _syncs.c.status == "ok"
        )
    ).scalar_one()
    return AppliedFeed(row.content_hash, written, row.seen, row.skipped, row.unmapped)


def unchanged_since(conn: Connection, supplier_id: int, applied: AppliedFeed, key: str) -> bool:
    """Whether the supplier's offers are as the applied sync left them: none written
    since it finished, none without a product that now matches one."""
    touched = conn.execute(
        select(_offers.c.id)
        .where(_offers.c.supplier_id == supplier_id, _offers.c.updated_at > applied.finished_at)
        .limit(1)
    ).first()
    if touched is not None:
        return False
    column = _products.c.gtin if key == "barcode" else _products.c.sku
    matched = select(_products.c.id).where(column == _offers.c.key).exists()
    waiting = conn.execute(
        select(_offers.c.id)
        .where(_offers.c.supplier_id == supplier_id, _offers.c.product_id.is_(None), matched)
        .limit(1)
    ).first()
    return waiting is None
