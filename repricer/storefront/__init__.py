"""Storefront push: connectors (file, woocommerce, shopify, http) and the push itself.

``push_changes(settings, engine, ...)`` is the entry point; ``check_storefront`` tests a
configured storefront. See :mod:`repricer.storefront.base` for the connector protocol.
"""

from __future__ import annotations

from repricer.storefront.base import (
    Connector,
    Price,
    PushItem,
    PushResult,
    check_storefront,
    make_connector,
)
from repricer.storefront.push import Mismatch, PushSummary, push_changes

__all__ = [
    "Connector",
    "Mismatch",
    "Price",
    "PushItem",
    "PushResult",
    "PushSummary",
    "check_storefront",
    "make_connector",
    "push_changes",
]
