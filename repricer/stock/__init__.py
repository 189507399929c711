"""Stock on the storefront: what to show, pushing it, and stock-only supplier sources.

- :mod:`repricer.stock.levels`: the stock each product should show (cheapest in-stock
  supplier, per-supplier safety buffer, our own stock, the gone-supplier policy).
- :mod:`repricer.stock.journal`: the stock last pushed per product (``stock_states``).
- :mod:`repricer.stock.push`: :func:`push_stock`, pushing exactly what changed.
- :mod:`repricer.stock.feed`: :func:`sync_stock_feed`, a supplier's fast stock-only source.
"""

from __future__ import annotations

from repricer.stock.feed import StockSyncResult, sync_stock_feed, sync_stock_feeds
from repricer.stock.levels import wanted_stock
from repricer.stock.push import StockMismatch, StockSummary, push_stock

__all__ = [
    "StockMismatch",
    "StockSummary",
    "StockSyncResult",
    "push_stock",
    "sync_stock_feed",
    "sync_stock_feeds",
    "wanted_stock",
]
