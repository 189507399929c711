"""What the market says per product: the competitor prices a rule may use, summarised.

Observations arrive as columns (product row, competitor code, price, in stock, moment).
Per product and its rule, the usable ones are those not older than the rule's
``stale_after`` (and not after ``now``), from the rule's competitors; of the in-stock
ones (or all, with ``include_out_of_stock``) the summary gives the lowest, the k-th
lowest, the median and the mean price. Order is (price, competitor name): ties on price
go to the competitor first by name; among a competitor's listings at the same price,
the newest observation is shown.

Each observation is packed into one int64 key (price, competitor, slot in its product's
group) and laid out as a few product-length columns, one per slot, which a sorting
network orders; reading the lowest, k-th or middle key is then a pick per product.
Where keys would not fit 62 bits or groups are too uneven for the columns, one sort of
all observations by (product, price, competitor) gives the same answers
(:mod:`repricer.pricing._market_sorted`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from repricer.pricing.params import RuleTable

I64 = npt.NDArray[Any]  # int64 columns
I32 = npt.NDArray[Any]  # int32 columns
Bools = npt.NDArray[Any]  # bool columns

_SENTINEL = np.int64(np.iinfo(np.int64).max)  # an empty slot: sorts after every key
_NETWORK_UP_TO = 8  # slots ordered by a sorting network; more by np.sort


@dataclass(frozen=True)
class Observed:
    """Observation columns: ``pos`` (int32) is the product's row, ``comp`` (int32) the
    index of the competitor in the engine's sorted competitor names, ``price`` int64
    minor units, ``ticks`` the moment observed as int64 ticks since the epoch
    (``per_second`` ticks a second; NaT is the int64 minimum) and ``now`` the run's
    moment in the same ticks."""

    pos: I32
    comp: I32
    price: I64
    in_stock: Bools
    ticks: I64
    now: int
    per_second: int

    def __len__(self) -> int:
        return len(self.pos)

    def ages(self, rows: I64) -> I64:
        """Whole seconds from the observations at ``rows`` to now (floored)."""
        seconds: I64 = (self.now - self.ticks[rows]) // self.per_second
        return seconds

    def take(self, rows: I64) -> Observed:
        return Observed(
            self.pos[rows],
            self.comp[rows],
            self.price[rows],
            self.in_stock[rows],
            self.ticks[rows],
            self.now,
            self.per_second,
        )


@dataclass(frozen=True)
class Market:
    """Per product row. ``n_any``: usable observations; ``n_in``: those counted (in
    stock, or all with ``include_out_of_stock``), int32. Prices are int64 minor units,
    0 where ``n_in`` is 0; competitors (int32) -1 when none; ages int64 seconds.
    ``median`` and ``mean`` are computed when a rule in use prices by them (0
    otherwise)."""

    n_any: I32
    n_in: I32
    low_price: I64
    low_comp: I32
    low_age: I64
    kth_price: I64
    kth_comp: I32
    kth_age: I64
    median: I64
    mean: I64


@dataclass(frozen=True)
class Counted:
    """Which observations a summary counts, with what the summary needs of the rules."""

    counted: Bools
    n_any: I32
    rank: I64  # per product: the rule's rank (k of the k-th lowest)
    median: bool  # some rule in use prices by the median
    mean: bool  # ... or by the mean


def summarise_market(obs: Observed, rule_idx: I64, table: RuleTable) -> Market:
    """Summarise the usable observations per product row (``len(rule_idx)`` rows)."""
    from repricer.pricing._market_sorted import summarise_sorted

    n = len(rule_idx)
    if len(obs) and not _grouped(obs.pos):  # group each product's observations together
        obs = obs.take(np.argsort(obs.pos, kind="stable"))
    sizes = np.bincount(obs.pos, minlength=n)
    width = int(sizes.max()) if n and len(obs) else 0
    c = count_usable(obs, rule_idx, table)
    bits = _key_bits(obs, len(table.competitors), width)
    if width == 0 or bits is None or n * width > 3 * len(obs) + n:
        return summarise_sorted(obs, c, n)
    return _summarise_slots(obs, c, sizes, width, bits)


def count_usable(obs: Observed, rule_idx: I64, table: RuleTable) -> Counted:
    """The observations each product's rule may use, counted per product."""
    n = len(rule_idx)
    present = np.zeros(len(table.rank), dtype=bool)  # the rules (rows) in use
    present[rule_idx] = True
    rule = _per_observation(obs, rule_idx)
    oldest = obs.now - (_by_rule(table.stale_after, present, rule) + 1) * obs.per_second
    usable = obs.ticks <= obs.now  # age >= 0, and age <= stale_after (floored seconds):
    usable &= obs.ticks > oldest
    if not table.allowed[present].all():
        usable &= table.allowed[rule(), obs.comp]
    n_any = np.bincount(obs.pos, weights=usable, minlength=n).astype(np.int32)
    include = _by_rule(table.include_oos, present, rule)
    counted = usable if np.all(include == 1) else usable & (obs.in_stock | (include == 1))
    strategies = table.strategy[present]
    return Counted(
        counted,
        n_any,
        table.rank[rule_idx],
        bool(np.isin(_MEDIAN, strategies).any()),
        bool(np.isin(_MEAN, strategies).any()),
    )


def _per_observation(obs: Observed, rule_idx: I64) -> Any:
    """A function giving each observation's rule row (gathered once, on first need)."""
    cache: list[I64] = []

    def rule() -> I64:
        if not cache:
            cache.append(rule_idx[obs.pos])
        return cache[0]

    return rule


def _by_rule(values: I64, present: Bools, rule: Any) -> Any:
    """``values[rule]`` per observation, or the one value when all rules in use share it."""
    used = values[present]
    if len(used) and bool((used == used[0]).all()):
        return used[0]
    return values[rule()]


def _grouped(pos: I32) -> bool:
    return bool(np.all(pos[1:] >= pos[:-1]))


def _key_bits(obs: Observed, competitors: int, width: int) -> tuple[int, int] | None:
    """(competitor bits, slot bits) of a key ``price | competitor | slot``, or None
    when a price is negative or the key would not fit 62 bits."""
    comp_bits, slot_bits = max(competitors, 1).bit_length(), max(width - 1, 1).bit_length()
    if len(obs) == 0:
        return comp_bits, slot_bits
    if int(obs.price.min()) < 0:
        return None
    if int(obs.price.max()).bit_length() + comp_bits + slot_bits > 62:
        return None
    return comp_bits, slot_bits


def _summarise_slots(
    obs: Observed, c: Counted, sizes: I64, width: int, bits: tuple[int, int]
) -> Market:
    """The summary from one key column per slot, ordered per product."""
    n = len(sizes)
    starts = np.cumsum(sizes) - sizes
    comp_bits, slot_bits = bits
    shift = comp_bits + slot_bits
    slot = np.arange(len(obs), dtype=np.int64)
    slot -= starts[obs.pos]
    key = obs.price << shift
    key |= obs.comp.astype(np.int64) << slot_bits
    key |= slot
    key[~c.counted] = _SENTINEL
    columns = np.full((width, n), _SENTINEL, dtype=np.int64)
    columns[slot, obs.pos] = key
    del key, slot
    ordered = _order_slots(columns)
    counts = np.zeros(n, dtype=np.int32)
    for column in ordered:
        counts += column != _SENTINEL
    has = counts > 0
    picks = _Picks(ordered, shift, slot_bits, starts, obs, has)
    rank = np.clip(np.minimum(c.rank, counts) - 1, 0, None)
    low_price, low_comp, low_age = picks.at(ordered[0], 0)
    kth_price, kth_comp, kth_age = picks.at(np.choose(rank, ordered), rank)
    median = np.zeros(n, dtype=np.int64)
    if c.median:
        lower = picks.price(np.choose(np.maximum(counts - 1, 0) // 2, ordered))
        upper = picks.price(np.choose(np.minimum(counts // 2, width - 1), ordered))
        median = (lower + upper + 1) // 2
    return Market(
        n_any=c.n_any,
        n_in=counts,
        low_price=low_price,
        low_comp=low_comp,
        low_age=low_age,
        kth_price=kth_price,
        kth_comp=kth_comp,
        kth_age=kth_age,
        median=median,
        mean=_means(obs, c, sizes, counts) if c.mean else np.zeros(n, dtype=np.int64),
    )


def _order_slots(columns: I64) -> list[I64]:
    """Each product's keys in rising order, as one column per slot."""
    width = len(columns)
    if width > _NETWORK_UP_TO:
        return list(np.sort(columns, axis=0))
    ordered = list(columns)
    spare = np.empty_like(ordered[0])
    for i, j in _network(width):
        low, high = ordered[i], ordered[j]
        np.minimum(low, high, out=spare)
        np.maximum(low, high, out=high)
        ordered[i], spare = spare, low
    return ordered


def _network(width: int) -> list[tuple[int, int]]:
    """Compare-exchange pairs that sort ``width`` values: Batcher's odd-even merge sort
    for the next power of two, without the pairs that touch a slot past ``width`` (those
    slots would hold the largest values and never move)."""
    size = 1 << max(width - 1, 0).bit_length()
    return [(i, j) for i, j in _batcher(size) if j < width]


def _batcher(size: int) -> Iterator[tuple[int, int]]:
    p = 1
    while p < size:
        k = p
        while k >= 1:
            for j in range(k % p, size - k, 2 * k):
                for i in range(min(k, size - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p):
                        yield i + j, i + j + k
            k //= 2
        p *= 2


class _Picks:
    """Decode picked keys into (price, competitor, age), with the newest of ties."""

    def __init__(
        self,
        ordered: list[I64],
        shift: int,
        slot_bits: int,
        starts: I64,
        obs: Observed,
        has: Bools,
    ) -> None:
        self.ordered, self.shift, self.slot_bits = ordered, shift, slot_bits
        self.starts, self.obs, self.has = starts, obs, has

    def price(self, key: I64) -> I64:
        price: I64 = np.where(self.has, key >> self.shift, 0)
        return price

    def at(self, key: I64, index: I64 | int) -> tuple[I64, I32, I64]:
        """The picked keys ``key``, found at column ``index`` of each product."""
        has, slot_mask = self.has, (1 << self.slot_bits) - 1
        comp_mask = (1 << (self.shift - self.slot_bits)) - 1
        comp = np.where(has, (key >> self.slot_bits) & comp_mask, -1).astype(np.int32)
        rows = np.flatnonzero(has)
        ticks = self.obs.ticks[self.starts[rows] + (key[rows] & slot_mask)]
        tied = self._tied(key, index)[rows]
        if tied.any():
            ticks[tied] = self._newest(key, rows[tied])
        age = np.zeros(len(has), dtype=np.int64)
        age[rows] = (self.obs.now - ticks) // self.obs.per_second
        return self.price(key), comp, age

    def _tied(self, key: I64, index: I64 | int) -> Bools:
        """Products whose picked key has a neighbour of the same (price, competitor):
        keys are ordered, so a tie sits next to the pick."""
        ordered, bits = self.ordered, self.slot_bits
        prefix = key >> bits
        if len(ordered) == 1:
            return np.zeros(len(key), dtype=bool)
        if isinstance(index, int):
            tied: Bools = ordered[index + 1] >> bits == prefix
            return tied
        below = np.choose(np.maximum(index - 1, 0), ordered) >> bits
        above = np.choose(np.minimum(index + 1, len(ordered) - 1), ordered) >> bits
        tied = ((index > 0) & (below == prefix)) | ((index + 1 < len(ordered)) & (above == prefix))
        return tied

    def _newest(self, key: I64, rows: I64) -> I64:
        """The latest moment among the observations of each row's picked (price, competitor)."""
        prefix, slot_mask = key[rows] >> self.slot_bits, (1 << self.slot_bits) - 1
        newest = np.full(len(rows), np.iinfo(np.int64).min, dtype=np.int64)
        for column in self.ordered:
            same = column[rows] >> self.slot_bits == prefix
            index = self.starts[rows] + np.where(same, column[rows] & slot_mask, 0)
            newest = np.where(same, np.maximum(newest, self.obs.ticks[index]), newest)
        return newest


def _means(obs: Observed, c: Counted, sizes: I64, counts: I32) -> I64:
    """Mean counted price per product, rounded half up."""
    sums = np.zeros(len(sizes), dtype=np.int64)
    starts = np.cumsum(sizes) - sizes
    has = np.flatnonzero(sizes > 0)
    if len(has):
        sums[has] = np.add.reduceat(np.where(c.counted, obs.price, 0), starts[has])
    safe = np.maximum(counts, 1).astype(np.int64)
    mean: I64 = np.where(counts > 0, (2 * sums + counts) // (2 * safe), 0)
    return mean


_MEDIAN = [2]  # STRATEGIES.index("match_median"); checked in repricer.pricing.params
_MEAN = [3]  # STRATEGIES.index("match_average")
