"""Header aliases for supplier price lists (CSV/XLSX): what suppliers write -> our field.

Lower-case keys; English and Russian headers as exported by 1C, МойСклад and common
wholesale platforms. A supplier's ``columns`` setting wins over these.
"""

from __future__ import annotations

FEED_ALIASES: dict[str, str] = {
    "sku": "sku",
    "артикул": "sku",
    "код": "sku",
    "код товара": "sku",
    "offer_id": "offer_id",
    "id": "offer_id",
    "vendorcode": "vendor_code",
    "vendor_code": "vendor_code",
    "mpn": "vendor_code",
    "артикул производителя": "vendor_code",
    "код производителя": "vendor_code",
    "barcode": "barcode",
    "gtin": "barcode",
    "ean": "barcode",
    "штрихкод": "barcode",
    "штрих-код": "barcode",
    "name": "name",
    "title": "name",
    "наименование": "name",
    "название": "name",
    "товар": "name",
    "vendor": "vendor",
    "brand": "vendor",
    "бренд": "vendor",
    "производитель": "vendor",
    "cost": "cost",
    "price": "cost",
    "purchase_price": "cost",
    "цена": "cost",
    "цена закупки": "cost",
    "закупочная цена": "cost",
    "оптовая цена": "cost",
    "опт": "cost",
    "retail_price": "retail_price",
    "rrp": "retail_price",
    "msrp": "retail_price",
    "ррц": "retail_price",
    "розничная цена": "retail_price",
    "розница": "retail_price",
    "old_price": "old_price",
    "oldprice": "old_price",
    "старая цена": "old_price",
    "currency": "currency",
    "валюта": "currency",
    "stock": "stock",
    "qty": "stock",
    "quantity": "stock",
    "count": "stock",
    "остаток": "stock",
    "остатки": "stock",
    "количество": "stock",
    "кол-во": "stock",
    "available": "available",
    "availability": "available",
    "in_stock": "available",
    "наличие": "available",
    "в наличии": "available",
}

# Words meaning "yes, in stock" / "no" in availability cells and YML attributes.
TRUE_WORDS = frozenset(
    {"1", "true", "yes", "y", "да", "есть", "в наличии", "+", "in stock", "instock", "available"}
)
FALSE_WORDS = frozenset(
    {"0", "false", "no", "n", "нет", "нет в наличии", "-", "out of stock", "под заказ"}
)
