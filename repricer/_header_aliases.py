"""Header aliases for catalog and listings files: what people write -> our field name.

Lower-case keys; English and Russian headers as exported by common shop platforms.
"""

from __future__ import annotations

CATALOG_ALIASES: dict[str, str] = {
    "sku": "sku",
    "артикул": "sku",
    "код": "sku",
    "код товара": "sku",
    "title": "title",
    "name": "title",
    "название": "title",
    "наименование": "title",
    "brand": "brand",
    "vendor": "brand",
    "бренд": "brand",
    "производитель": "brand",
    "category": "category",
    "категория": "category",
    "gtin": "gtin",
    "ean": "gtin",
    "barcode": "gtin",
    "штрихкод": "gtin",
    "штрих-код": "gtin",
    "price": "price",
    "цена": "price",
    "currency": "currency",
    "валюта": "currency",
    "stock": "stock",
    "qty": "stock",
    "quantity": "stock",
    "остаток": "stock",
    "количество": "stock",
    "map_price": "map_price",
    "map": "map_price",
    "мрц": "map_price",
    "min_price": "min_price",
    "мин. цена": "min_price",
    "max_price": "max_price",
    "макс. цена": "max_price",
    "tags": "tags",
    "теги": "tags",
    "storefront_id": "storefront_id",
}

LISTING_ALIASES: dict[str, str] = {
    "sku": "sku",
    "артикул": "sku",
    "competitor": "competitor",
    "конкурент": "competitor",
    "url": "url",
    "link": "url",
    "ссылка": "url",
    "match_method": "match_method",
    "confidence": "confidence",
    "active": "active",
}
