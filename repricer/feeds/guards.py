"""Guards: when a whole feed must be refused, keeping the previous data.

A feed is refused when it holds no valid offer, when too large a share of the
supplier's available items would vanish (complete feeds only), or when the cost of too
many items moves by more than the supplier's ``max_cost_change``.
"""

from __future__ import annotations

from decimal import Decimal

from repricer.config import SupplierSettings
from repricer.feeds.staging import FeedDiff


class FeedRejected(Exception):
    """Raised inside a sync when a guard refuses the feed; the message is the reason
    recorded in ``feed_syncs.error``. Never escapes :func:`repricer.feeds.sync_feeds`."""


def check_guards(supplier: SupplierSettings, diff: FeedDiff, skipped: int) -> str | None:
    """Why the whole feed must be rejected, or None when it may be applied."""
    if diff.staged == 0:
        return f"empty feed: no valid offers ({skipped} row(s) skipped)"
    if (
        supplier.complete
        and diff.known
        and _share(diff.missing, diff.known) > supplier.max_missing_share
    ):
        return (
            f"{diff.missing} of {diff.known} known items ({_pct(diff.missing, diff.known)}) are "
            f"missing from the feed, above max_missing_share {_pct_d(supplier.max_missing_share)}"
        )
    if diff.compared and _share(diff.big_moves, diff.compared) > supplier.max_cost_change_share:
        return (
            f"costs of {diff.big_moves} of {diff.compared} items "
            f"({_pct(diff.big_moves, diff.compared)}) moved more than max_cost_change "
            f"{_pct_d(supplier.max_cost_change)}, above max_cost_change_share "
            f"{_pct_d(supplier.max_cost_change_share)}"
        )
    return None


def would_change(supplier: SupplierSettings, diff: FeedDiff) -> str:
    """What applying a refused feed would do, and the one-time way to apply it anyway
    (appended to the rejection reason; an empty feed has no way through)."""
    if diff.staged == 0:
        return ""
    effects = [
        f"store {diff.staged} offer(s) ({diff.staged - diff.unmapped} matching our products)"
    ]
    if supplier.complete and diff.missing:
        effects.append(f"mark {diff.missing} known item(s) unavailable")
    if diff.big_moves:
        effects.append(f"move {diff.big_moves} cost(s) by more than max_cost_change")
    return (
        f"; applying it would {', '.join(effects)}. If that is right (for example after "
        f"changing the supplier's key), apply it once with "
        f"`repricer feeds sync --supplier {supplier.name} --accept-changes`"
    )


def _share(part: int, whole: int) -> Decimal:
    return Decimal(part) / Decimal(whole)


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%"


def _pct_d(fraction: Decimal) -> str:
    return f"{(fraction * 100).normalize():f}%"
