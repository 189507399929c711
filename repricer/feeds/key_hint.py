"""Why a supplier's offers match none of our products, and which ``key`` would match them.

A feed is matched to the catalog by the supplier's ``key``: ``sku`` (offer id or sku column
= our SKU), ``vendorCode`` (vendor code = our SKU) or ``barcode`` (barcode = our GTIN). When
no offer matched, :func:`unmatched_key_hint` says which key was tried, what the offers carry
(with an example of each), and how many offers each other key would match.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, func, select

from repricer.config import SupplierSettings
from repricer.db.engine import session_scope
from repricer.db.models import Product, Supplier, SupplierOffer

# key setting -> (what it compares, the offer column, the product column)
CANDIDATES: dict[str, tuple[str, Any, Any]] = {
    "sku": ("offer id = our SKU", SupplierOffer.offer_id, Product.sku),
    "vendorCode": ("vendorCode = our SKU", SupplierOffer.vendor_code, Product.sku),
    "barcode": ("barcode = our GTIN", SupplierOffer.barcode, Product.gtin),
}


@dataclass(frozen=True)
class KeyHint:
    """``matches``: offers each key setting would match; ``examples``: a value of each
    offer field present (offer id, vendorCode, barcode) and of our SKUs."""

    supplier: str
    key: str
    offers: int
    matches: dict[str, int]
    examples: dict[str, str]

    def __str__(self) -> str:
        tried = CANDIDATES[self.key][0]
        text = f"{self.supplier}: none of {self.offers} offer(s) matched a product by key = "
        text += f'"{self.key}" ({tried})'
        if "our SKU" not in self.examples:
            return text + "; the catalog is empty: run `repricer catalog import` first"
        carried = ", ".join(f'{field} "{value}"' for field, value in self.examples.items())
        text += f"; the offers carry e.g. {carried}"
        better = max(self.matches, key=lambda key: self.matches[key])
        if self.matches[better] and better != self.key:
            text += (
                f'; key = "{better}" matches {self.matches[better]} of {self.offers}: set it in '
                f'the [[suppliers]] table "{self.supplier}" and run `repricer feeds sync '
                f"--supplier {self.supplier} --accept-changes` once (the offers stored under the "
                "old key count as missing)"
            )
        return text


def unmatched_key_hint(engine: Engine, supplier: SupplierSettings) -> KeyHint | None:
    """A hint when the supplier has offers and none of them is matched to a product."""
    with session_scope(engine) as session:
        supplier_id = session.scalar(select(Supplier.id).where(Supplier.name == supplier.name))
        mine = SupplierOffer.supplier_id == supplier_id
        offers = session.scalar(select(func.count()).select_from(SupplierOffer).where(mine)) or 0
        mapped = session.scalar(
            select(func.count()).where(mine, SupplierOffer.product_id.is_not(None))
        )
        if supplier_id is None or offers == 0 or mapped:
            return None
        matches = {
            key: session.scalar(
                select(func.count(func.distinct(SupplierOffer.id)))
                .join(Product, and_(ours == theirs, theirs.is_not(None)))
                .where(mine)
            )
            or 0
            for key, (_, theirs, ours) in CANDIDATES.items()
        }
        examples = {
            label: value
            for label, column in (
                ("offer id", SupplierOffer.offer_id),
                ("vendorCode", SupplierOffer.vendor_code),
                ("barcode", SupplierOffer.barcode),
            )
            if (value := session.scalar(select(column).where(mine, column.is_not(None)).limit(1)))
        }
        sku = session.scalar(select(Product.sku).limit(1))
        if sku is not None:
            examples["our SKU"] = sku
    return KeyHint(supplier.name, supplier.key, offers, matches, examples)
