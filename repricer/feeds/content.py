"""Whether a fetched feed says anything new: its content hash, and what could still change.

:func:`content_hash` is the SHA-256 of the feed file together with everything that
decides how it is read (format, encoding, delimiter, sheet, key, column map, whether it
is complete, the currency, the repricer version), so a config change or an upgrade
re-reads the same file. A feed whose hash equals the last applied sync's would write
nothing, unless an offer left unmatched then now has a product: :func:`awaits_match`
tells, and the sync then reads the feed in full.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import cast

from sqlalchemy import Connection, Table, select

from repricer import __version__
from repricer.config import SupplierSettings
from repricer.db.models import Product, SupplierOffer

_READ_WITH = ("format", "encoding", "delimiter", "sheet", "key", "columns", "complete")
_BLOCK = 1 << 20
_offers = cast(Table, SupplierOffer.__table__)
_products = cast(Table, Product.__table__)


def content_hash(path: Path, supplier: SupplierSettings, currency: str) -> str:
    """Hex SHA-256 of the file at ``path`` and the settings that read it."""
    settings = {name: getattr(supplier, name) for name in _READ_WITH}
    header = json.dumps([__version__, currency, settings], sort_keys=True, default=str)
    digest = hashlib.sha256(header.encode() + b"\0")
    with path.open("rb") as file:
        while block := file.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def awaits_match(conn: Connection, supplier_id: int, key_setting: str) -> bool:
    """Whether an offer of the supplier without a product now matches one (a product
    imported since the last sync)."""
    column = _products.c.gtin if key_setting == "barcode" else _products.c.sku
    matched = select(_products.c.id).where(column == _offers.c.key).exists()
    stmt = select(_offers.c.id).where(
        _offers.c.supplier_id == supplier_id, _offers.c.product_id.is_(None), matched
    )
    return conn.execute(stmt.limit(1)).first() is not None
