"""Match many products against many candidates: block, score, keep the plausible pairs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from repricer.matching.blocking import block_pairs
from repricer.matching.offers import Offer, gc_paused
from repricer.matching.scoring import ACCEPT_AT, REVIEW_AT, score_offers


@dataclass(frozen=True)
class Match:
    """``products[product]`` and ``candidates[candidate]`` scored ``score`` in [0, 1];
    ``accepted`` when the score reached the accept threshold."""

    product: int
    candidate: int
    score: float
    accepted: bool


def match_offers(
    products: Sequence[Offer],
    candidates: Sequence[Offer],
    *,
    accept_at: float = ACCEPT_AT,
    review_at: float = REVIEW_AT,
    per_product: int = 4,
) -> list[Match]:
    """Pairs scoring at least ``review_at``. A candidate page is one product: it goes to
    its best-scoring product only. A product keeps every candidate that reached
    ``review_at`` (a competitor may list it twice); only its best can be accepted."""
    with gc_paused():
        pairs = block_pairs(products, candidates, per_product=per_product)
        if not len(pairs):
            return []
        scores = score_offers(
            [products[i] for i in pairs.products.tolist()],
            [candidates[j] for j in pairs.candidates.tolist()],
        )
    keep = scores >= review_at
    rows, cols, kept = pairs.products[keep], pairs.candidates[keep], scores[keep]
    order = np.lexsort((-kept, cols))  # best product first for each candidate
    first = np.ones(len(order), dtype=bool)
    first[1:] = cols[order][1:] != cols[order][:-1]
    chosen = order[first]
    rows, cols, kept = rows[chosen], cols[chosen], kept[chosen]
    order = np.lexsort((-kept, rows))  # best candidate first for each product
    best = np.ones(len(order), dtype=bool)
    best[1:] = rows[order][1:] != rows[order][:-1]
    return [
        Match(int(rows[k]), int(cols[k]), float(kept[k]), bool(best[n] and kept[k] >= accept_at))
        for n, k in enumerate(order.tolist())
    ]
