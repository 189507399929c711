"""Page objects: extraction from saved HTML, usable without Scrapy or a network.

``extract_product(html, url, selectors=None) -> ExtractedProduct`` is the contract.
"""

from __future__ import annotations

from spiders.pages.blocked import looks_blocked
from spiders.pages.product import ExtractedProduct, extract_product
from spiders.pages.tree import parse_html

__all__ = ["ExtractedProduct", "extract_product", "looks_blocked", "parse_html"]
