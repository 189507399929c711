"""Supplier feeds: fetch (conditional GET), stream-parse (YML, CSV, XLSX), diff, guard
and upsert into ``supplier_offers``; the effective cost and stock per product.

``sync_feeds(settings, engine, supplier=None, progress=None) -> list[SyncResult]`` and
``repricer.feeds.effective.effective_costs(conn)`` are the entry points.
"""

from __future__ import annotations

from repricer.feeds.sync import SyncResult, sync_feed, sync_feeds

__all__ = ["SyncResult", "sync_feed", "sync_feeds"]
