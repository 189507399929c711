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

from repricer.pricing.codes import Method
from repricer.pricing.params import RuleTable

I64 = npt.NDArray[Any]  # int64 columns
I32 = npt.NDArray[Any]  # int32 columns
Bools = npt.NDArray[Any]  # bool columns

_SENTINEL = np.int64(np.iinfo(np.int64).max)  # an empty slot: sorts after every key
_NETWORK_UP_TO = 8  # slots ordered by a sorting network; more by np.sort
_BLOCK = 1 << 16  # observations keyed at once


@dataclass(frozen=True)
class Observed:
    """Observation columns: ``pos`` (int32) is the product's row, ``comp`` (int16) the
    index of the competitor in the engine's sorted competitor names, ``price`` int64
    minor units, ``ticks`` the moment observed as int64 ticks since the epoch
    (``per_second`` ticks a second; NaT is the int64 minimum) and ``now`` the run's
    moment in the same ticks."""

    pos: I32
    comp: npt.NDArray[Any]
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
class Counting:
    """What each product's rule says about its observations: how old they may be
    (``stale_after``, seconds), whether out-of-stock ones count (``include_oos``), the
    competitor filter (``allowed[rule, competitor]``, None when no rule in use filters),
    ``rank`` (k of the k-th lowest) and ``strategy`` (a Method: median and mean are
    for theirs). Each is one value when all rules in use share it, else a column per
    product."""

    rule_idx: I64
    stale_after: Any
    include_oos: Any
    allowed: Bools | None
    rank: Any
    strategy: Any
    fresh: bool  # every observation is young enough for every rule in use

    def usable(self, obs: Observed, rows: slice) -> tuple[Bools, Bools]:
        """(usable, counted) for the observations at ``rows``."""
        pos, ticks = obs.pos[rows], obs.ticks[rows]
        stale = self.stale_after if np.ndim(self.stale_after) == 0 else self.stale_after[pos]
        if self.fresh:
            usable = np.ones(len(pos), dtype=bool)
        else:
            usable = ticks <= obs.now  # age >= 0, and age <= stale_after (floored seconds):
            usable &= ticks > obs.now - (stale + 1) * obs.per_second
        if self.allowed is not None:
            usable &= self.allowed[self.rule_idx[pos], obs.comp[rows]]
        include = self.include_oos if np.ndim(self.include_oos) == 0 else self.include_oos[pos]
        if np.ndim(include) == 0:
            return usable, (usable if include else usable & obs.in_stock[rows])
        return usable, usable & (obs.in_stock[rows] | (include == 1))


def summarise_market(obs: Observed, rule_idx: I64, table: RuleTable) -> Market:
    """Summarise the usable observations per product row (``len(rule_idx)`` rows)."""
    from repricer.pricing._market_sorted import summarise_sorted

    n = len(rule_idx)
    if len(obs) and not _grouped(obs.pos):  # group each product's observations together
        obs = obs.take(np.argsort(obs.pos, kind="stable"))
    sizes = np.bincount(obs.pos, minlength=n)
    width = int(sizes.max()) if n and len(obs) else 0
    c = counting(rule_idx, table, obs)
    bits = _key_bits(obs, len(table.competitors), width)
    if width == 0 or bits is None or n * width > 3 * len(obs) + n:
        return summarise_sorted(obs, c, n)
    return _summarise_slots(obs, c, sizes, bits)


def counting(rule_idx: I64, table: RuleTable, obs: Observed) -> Counting:
    """The rules' counting values per product (shared ones as one value), and whether
    ``obs`` are all young enough for every rule in use (as loaded from the database,
    where the oldest allowed is read: then no observation's age needs a test)."""
    present = np.zeros(len(table.rank), dtype=bool)  # the rules (rows) in use
    present[rule_idx] = True

    def per_product(values: I64) -> Any:
        used = values[present]
        if len(used) and bool((used == used[0]).all()):
            return used[0]
        return values[rule_idx]

    return Counting(
        rule_idx,
        per_product(table.stale_after),
        per_product(table.include_oos),
        None if table.allowed[present].all() else table.allowed,
        per_product(table.rank),
        per_product(table.strategy),
        _all_fresh(obs, int(table.stale_after[present].min())),
    )


def _all_fresh(obs: Observed, stale_after: int) -> bool:
    if len(obs) == 0:
        return True
    oldest = obs.now - (stale_after + 1) * obs.per_second
    return int(obs.ticks.min()) > oldest and int(obs.ticks.max()) <= obs.now


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


def _summarise_slots(obs: Observed, c: Counting, sizes: I64, bits: tuple[int, int]) -> Market:
    """The summary from one key column per slot, ordered per product. A slot not
    counted holds :data:`_SENTINEL` (unusable) or one less (usable, not counted)."""
    n = len(sizes)
    starts = np.cumsum(sizes) - sizes
    ordered = _order_slots(_slot_columns(obs, c, sizes, starts, bits))
    counts = np.zeros(n, dtype=np.int32)
    n_any = np.zeros(n, dtype=np.int32)
    for column in ordered:
        n_any += column != _SENTINEL
        counts += column < _SENTINEL - 1
    picks = _Picks(ordered, bits, starts, obs, counts)
    low_price, low_comp, low_age = picks.at(None, np.zeros(n, dtype=np.int64))
    kth_price, kth_comp, kth_age = low_price.copy(), low_comp.copy(), low_age.copy()
    deeper = np.flatnonzero((c.rank > 1) & (counts > 1))  # else the k-th is the lowest
    if len(deeper):
        rank = np.minimum(_at(c.rank, deeper), counts[deeper]) - 1
        kth_price[deeper], kth_comp[deeper], kth_age[deeper] = picks.at(deeper, rank)
    return Market(
        n_any=n_any,
        n_in=counts,
        low_price=low_price,
        low_comp=low_comp,
        low_age=low_age,
        kth_price=kth_price,
        kth_comp=kth_comp,
        kth_age=kth_age,
        median=picks.median(_rows_of(c.strategy, Method.MATCH_MEDIAN, n)),
        mean=_means(obs, c, sizes, counts),
    )


def _rows_of(strategy: Any, method: Method, n: int) -> I64:
    """The products whose rule's strategy is ``method``."""
    rows: I64 = np.flatnonzero(np.broadcast_to(strategy == method, (n,)))
    return rows


def _at(values: Any, rows: I64) -> Any:
    """``values[rows]``, or the one value."""
    return values[rows] if np.ndim(values) else values


def _slot_columns(
    obs: Observed, c: Counting, sizes: I64, starts: I64, bits: tuple[int, int]
) -> I64:
    """The keys laid out as (slot, product): ``price | competitor | slot``. Built a
    block of products at a time, so that the temporaries stay small (and in cache); a
    block whose products all have every slot filled is keyed as a (product, slot)
    table and transposed."""
    n, width = len(sizes), int(sizes.max())
    columns = np.full((width, n), _SENTINEL, dtype=np.int64)
    ends = starts + sizes
    step = max(1, n * _BLOCK // max(len(obs), 1))
    table_slots = np.arange(width, dtype=np.int64)
    for first in range(0, n, step):
        last = min(first + step, n)
        rows = slice(int(starts[first]), int(ends[last - 1]))
        if rows.stop - rows.start == (last - first) * width:  # every product has all slots
            key = _keys(obs, c, rows, np.tile(table_slots, last - first), bits)
            columns[:, first:last] = key.reshape(last - first, width).T
        else:
            slot = np.arange(rows.start, rows.stop, dtype=np.int64)
            slot -= starts[obs.pos[rows]]
            columns[slot, obs.pos[rows]] = _keys(obs, c, rows, slot, bits)
    return columns


def _keys(obs: Observed, c: Counting, rows: slice, slot: I64, bits: tuple[int, int]) -> I64:
    """The keys of the observations at ``rows`` in their ``slot``."""
    comp_bits, slot_bits = bits
    key = obs.price[rows] << (comp_bits + slot_bits)
    low_bits: I64 = obs.comp[rows].astype(np.int64)
    low_bits <<= slot_bits
    low_bits |= slot
    key |= low_bits
    usable, counted = c.usable(obs, rows)
    if counted is not usable:
        np.copyto(key, _SENTINEL - 1, where=~counted)
    np.copyto(key, _SENTINEL, where=~usable)
    return key


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
    """Keys picked from ordered columns, decoded into price, competitor and age (of
    the newest observation of a tie)."""

    def __init__(
        self, ordered: list[I64], bits: tuple[int, int], starts: I64, obs: Observed, counts: I32
    ) -> None:
        self.ordered, self.starts, self.obs, self.counts = ordered, starts, obs, counts
        self.slot_bits = bits[1]
        self.shift = bits[0] + bits[1]

    def columns(self, rows: I64 | None) -> list[I64]:
        """The ordered columns of ``rows`` (None: every product)."""
        return self.ordered if rows is None else [column[rows] for column in self.ordered]

    def at(self, rows: I64 | None, index: I64) -> tuple[I64, I32, I64]:
        """(price, competitor, age) at column ``index`` of each of ``rows`` (None:
        every product); 0, -1, 0 where a product counts no observation."""
        first = rows is None and not index.any()  # the lowest of every product
        columns = self.columns(rows)
        key = columns[0] if first else np.choose(index, columns)
        counts = self.counts if rows is None else self.counts[rows]
        starts = self.starts if rows is None else self.starts[rows]
        has = counts > 0
        slot_mask = (1 << self.slot_bits) - 1
        comp_mask = (1 << (self.shift - self.slot_bits)) - 1
        comp = ((key >> self.slot_bits) & comp_mask).astype(np.int32)
        comp[~has] = -1
        found = starts + (key & slot_mask)
        np.minimum(found, len(self.obs) - 1, out=found)  # an empty product's slot
        ticks = self.obs.ticks[found]
        tied = np.flatnonzero(self._tied(key, columns, index, first) & has)
        if len(tied):
            at = tied if rows is None else rows[tied]
            ticks[tied] = self._newest(key[tied], at)
        age = (self.obs.now - ticks) // self.obs.per_second
        age[~has] = 0
        price = key >> self.shift
        price[~has] = 0
        return price, comp, age

    def _tied(self, key: I64, columns: list[I64], index: I64, first: bool) -> Bools:
        """Whether another key of the pick's product has its (price, competitor): keys
        are ordered, so such a tie sits next to the pick."""
        bits, last = self.slot_bits, len(columns) - 1
        prefix = key >> bits
        if last == 0:
            return np.zeros(len(key), dtype=bool)
        above = columns[1] if first else np.choose(np.minimum(index + 1, last), columns)
        tied: Bools = (above >> bits == prefix) & (index < last)
        if not first:
            below = np.choose(np.maximum(index - 1, 0), columns)
            tied |= (below >> bits == prefix) & (index > 0)
        return tied

    def _newest(self, key: I64, rows: I64) -> I64:
        """The latest moment among the observations of each row's picked (price, competitor)."""
        prefix, slot_mask = key >> self.slot_bits, (1 << self.slot_bits) - 1
        newest = np.full(len(rows), np.iinfo(np.int64).min, dtype=np.int64)
        for column in self.ordered:
            same = column[rows] >> self.slot_bits == prefix
            found = self.starts[rows] + np.where(same, column[rows] & slot_mask, 0)
            newest = np.where(same, np.maximum(newest, self.obs.ticks[found]), newest)
        return newest

    def median(self, rows: I64) -> I64:
        """The median counted price of ``rows`` (the mean of the two middle ones,
        rounded half up), 0 elsewhere."""
        median = np.zeros(len(self.counts), dtype=np.int64)
        if len(rows) == 0:
            return median
        counts, columns = self.counts[rows], self.columns(rows)
        lower = np.choose(np.maximum(counts - 1, 0) // 2, columns) >> self.shift
        upper = np.choose(np.minimum(counts // 2, len(columns) - 1), columns) >> self.shift
        median[rows] = np.where(counts > 0, (lower + upper + 1) // 2, 0)
        return median


def _means(obs: Observed, c: Counting, sizes: I64, counts: I32) -> I64:
    """Mean counted price of the products whose rule prices by it (rounded half up),
    0 elsewhere."""
    mean = np.zeros(len(sizes), dtype=np.int64)
    rows = np.flatnonzero((c.strategy == Method.MATCH_AVERAGE) & (counts > 0))
    if len(rows) == 0:
        return mean
    starts = np.cumsum(sizes) - sizes
    sums = np.zeros(len(sizes), dtype=np.int64)
    nonempty = sizes > 0
    counted = c.usable(obs, slice(None))[1]
    sums[nonempty] = np.add.reduceat(np.where(counted, obs.price, 0), starts[nonempty])
    total, count = sums[rows], counts[rows].astype(np.int64)
    mean[rows] = (2 * total + count) // (2 * count)
    return mean
