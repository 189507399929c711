"""Guards: what bounds a target price, in this fixed order.

1. floor = max(cost x (1 + min_margin) + fixed_fee (rounded up), min_price, MAP);
   ceiling = min(max_price, cost x (1 + max_markup) (rounded down), rule ceiling).
2. floor > ceiling: no change, flagged (the engine skips the product).
3. clamp the target to [floor, ceiling].
4. max change per run: clamp to old ± max_change (the floor still wins), or with
   ``max_change_action = "approve"`` keep the price and mark it needs-approval; a
   change that still exceeds the limit (the floor forced it) needs approval too.
5. ending / rounding inside the allowed window: never under the floor, never over the
   ceiling or the max-change band (see :mod:`repricer.pricing.rounding`); a price
   that the steps above leave at the current price is not re-rounded.
6. minimum delta: a change smaller than ``min_delta`` keeps the old price.
7. cooldown: no change within ``cooldown`` of the last applied change.

Steps 6 and 7 keep the old price only where the old price is itself inside
[floor, ceiling]; a price under the floor is always corrected. All arguments are int64
columns in minor units; "none" is :data:`NO_CEILING` for ceilings and 0 for floors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from repricer.pricing.codes import CODE, FloorBasis
from repricer.pricing.rounding import round_into
from repricer.pricing.rule_values import DEN

if TYPE_CHECKING:
    from repricer.pricing.params import RuleParams

I64 = npt.NDArray[Any]  # int64 columns
Bools = npt.NDArray[Any]  # bool columns
NO_CEILING = np.int64(2**62)
OFF = -1


def share_of(amount: I64, share: I64) -> I64:
    """``amount x share / DEN`` rounded half up (exact integer arithmetic)."""
    return (2 * amount * share + DEN) // (2 * DEN)


def floor_and_ceiling(cost: I64, has_cost: Bools, cols: RuleParams) -> tuple[I64, I64, I64]:
    """(floor, floor_basis, ceiling): int64 minor units and a :class:`FloorBasis` code
    (int8) of what set the floor."""
    margin = -((-cost * cols.min_margin) // DEN)  # rounded up: never under the margin
    floor = np.where(has_cost, cost + margin + cols.fixed_fee, 0)
    basis = (floor > 0).astype(CODE) * CODE(FloorBasis.COST)
    np.maximum(floor, 0, out=floor)
    for bound, code in ((cols.min_price, FloorBasis.MIN_PRICE), (cols.map_price, FloorBasis.MAP)):
        higher = bound > floor  # strictly: of equal bounds the first named wins
        floor = np.where(higher, bound, floor)
        basis[higher] = code
    markup = cols.max_markup
    by_markup = np.where(has_cost & (markup != OFF), cost + cost * markup // DEN, NO_CEILING)
    rule_cap = np.where(cols.rule_ceiling != OFF, cols.rule_ceiling, NO_CEILING)
    ceiling = np.minimum(np.minimum(cols.max_price, by_markup), rule_cap)
    return floor, basis, ceiling


@dataclass(frozen=True)
class Guarded:
    """The guarded price and what bound it (one bool column per guard)."""

    price: I64
    raw: I64  # after the max-change step, before rounding
    by_floor: Bools
    by_ceiling: Bools
    by_max_change: Bools
    exceeds_max_change: Bools
    by_rounding: Bools
    no_ending: Bools
    by_min_delta: Bools
    by_cooldown: Bools


def apply_guards(
    target: I64,
    old: I64,
    has_old: Bools,
    floor: I64,
    ceiling: I64,
    since_change: I64,
    cols: RuleParams,
) -> Guarded:
    """Steps 3-7 for rows whose floor <= ceiling. ``since_change`` is seconds since the
    last applied change, -1 when unknown."""
    low = np.maximum(floor, 1)
    clamped = np.minimum(np.maximum(target, low), ceiling)
    by_floor, by_ceiling = target < low, target > ceiling
    b = _max_change(clamped, old, has_old, low, ceiling, cols)
    rounded, no_ending = round_into(b.moved, cols.round_mod, cols.round_rem, b.low, b.high)
    same = has_old & (b.moved == old)  # a price that stays is not re-rounded (no churn)
    rounded[same] = old[same]
    no_ending &= ~same
    old_ok = has_old & (old >= low) & (old <= ceiling) & (rounded != old)
    threshold = cols.min_delta_amount
    if np.ndim(cols.min_delta_share) or cols.min_delta_share:
        threshold = share_of(old, cols.min_delta_share) + threshold
    tiny = old_ok & (np.abs(rounded - old) < threshold)
    cooling = cols.cooldown
    recent = old_ok & ~tiny & (cooling != OFF) & (since_change >= 0) & (since_change < cooling)
    keep = tiny | recent
    return Guarded(
        price=np.where(keep, old, rounded),
        raw=b.moved,
        by_floor=by_floor,
        by_ceiling=by_ceiling,
        by_max_change=b.clamped,
        exceeds_max_change=b.exceeds & ~keep,
        by_rounding=(rounded != b.moved) & ~keep,
        no_ending=no_ending & (cols.round_mod > 1),
        by_min_delta=tiny,
        by_cooldown=recent,
    )


@dataclass(frozen=True)
class _Band:
    """Step 4: the price after the max-change step, whether the step clamped it or it
    exceeds the limit, and the window [low, high] rounding must stay in."""

    moved: I64
    clamped: Bools
    exceeds: Bools
    low: I64
    high: I64


def _max_change(
    price: I64, old: I64, has_old: Bools, low: I64, ceiling: I64, cols: RuleParams
) -> _Band:
    limit = cols.max_change
    if np.ndim(limit) == 0 and limit == OFF:
        nothing = np.zeros(len(price), dtype=bool)
        return _Band(price, nothing, nothing, low, ceiling)
    has_limit = has_old & (limit != OFF)
    delta = old * np.maximum(limit, 0) // DEN
    down, up = old - delta, old + delta
    clamp_mode = has_limit & (cols.approve_change == 0)
    banded = np.minimum(np.maximum(price, down), up)
    np.minimum(banded, ceiling, out=banded)
    np.maximum(banded, low, out=banded)  # the floor still wins
    moved = np.where(clamp_mode, banded, price)
    exceeds = has_limit & (np.abs(moved - old) > delta)
    in_band = has_limit & ~exceeds
    return _Band(
        moved=moved,
        clamped=clamp_mode & (banded != price),
        exceeds=exceeds,
        low=np.where(in_band, np.maximum(low, down), low),
        high=np.where(in_band, np.minimum(ceiling, up), ceiling),
    )
