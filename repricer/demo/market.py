"""The demo market: supplier offers and competitor prices that move between cycles.

The demo's HTTP servers render feeds and product pages from one :class:`Market`; the
demo advances it between scheduler cycles so a user sees repeated repricing. Changes
are deterministic (no randomness), so a demo run is reproducible.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from repricer.demo._data import BROKEN_SHOP, OFFERS, PRODUCTS, SHOP_PRICES, DemoProduct

# Competitor price moves per cycle, cycling through the listings: -3%, 0, +2%, -1%.
_SHOP_MOVES = (-3, 0, 2, -1)
# Supplier cost moves per cycle for one offer in four: +2%, -1%.
_COST_MOVES = (2, -1)


@dataclass(frozen=True)
class Offer:
    cost: int  # kopecks
    stock: int


class Market:
    """Thread-safe current state; servers read it on every request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.cycle = 0
        self._offers = {key: Offer(cost, stock) for key, (cost, stock) in OFFERS.items()}
        self._prices = dict(SHOP_PRICES)

    @property
    def products(self) -> tuple[DemoProduct, ...]:
        return PRODUCTS

    def offers(self, supplier: str) -> dict[str, Offer]:
        """sku -> offer of one supplier."""
        with self._lock:
            return {sku: o for (s, sku), o in sorted(self._offers.items()) if s == supplier}

    def shop_price(self, shop: str, sku: str) -> int | None:
        """The competitor's price; None for a broken page. KeyError: not listed there."""
        with self._lock:
            return self._prices[(shop, sku)]

    def listings(self) -> list[tuple[str, str]]:
        """(sku, shop) for every competitor listing."""
        return sorted((sku, shop) for shop, sku in SHOP_PRICES)

    def advance(self) -> list[str]:
        """Move to the next cycle: some competitor prices, supplier costs and stock
        change. Returns one line per change."""
        with self._lock:
            self.cycle += 1
            return self._move_prices() + self._move_offers()

    def _move_prices(self) -> list[str]:
        changes = []
        for i, (key, price) in enumerate(sorted(self._prices.items())):
            move = _SHOP_MOVES[(i + self.cycle) % len(_SHOP_MOVES)]
            if price is None or move == 0 or key[0] == BROKEN_SHOP:
                continue
            new = _whole_rubles(price * (100 + move) // 100)
            self._prices[key] = new
            changes.append(f"{key[0]} {key[1]}: {price / 100:.0f} -> {new / 100:.0f} ₽")
        return changes

    def _move_offers(self) -> list[str]:
        changes = []
        for i, (key, offer) in enumerate(sorted(self._offers.items())):
            if (i + self.cycle) % 4:
                continue
            move = _COST_MOVES[self.cycle % len(_COST_MOVES)]
            cost = _whole_rubles(offer.cost * (100 + move) // 100)
            stock = offer.stock
            if key == ("alpha", "DEMO-004"):
                stock = 0 if offer.stock else 9  # comes and goes: never sold while gone
            self._offers[key] = Offer(cost, stock)
            changes.append(
                f"supplier {key[0]} {key[1]}: cost {offer.cost / 100:.0f} -> {cost / 100:.0f} ₽, stock {stock}"
            )
        return changes


def _whole_rubles(kopecks: int) -> int:
    return kopecks // 100 * 100
