"""Blocking: pick the few candidates worth scoring for each product, sub-quadratically.

Three cheap sources of candidate pairs, merged:

* equal GTIN and equal model code, joined through dictionaries;
* TF-IDF over normalised title/brand/code tokens: a sparse product-by-candidate
  similarity computed a block of products at a time (tokens found on more than
  ``max_df`` candidates carry no signal and are dropped, so each product only meets
  candidates that share a rare token), keeping each product's ``per_product`` best.

Work grows with the number of products times the (bounded) posting lists of their rare
tokens, not with products x candidates.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from repricer.matching.offers import Offer

_BLOCK_ROWS = 4096
_MAX_KEY_POSTINGS = 20  # an "identifier" shared by more pages than this identifies nothing


@dataclass(frozen=True)
class CandidatePairs:
    """Aligned index arrays: ``products[i]`` is paired with ``candidates[i]``."""

    products: NDArray[np.int64]
    candidates: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.products)


def _keys(offer: Offer) -> Iterable[str]:
    if offer.gtin:
        yield "gtin:" + offer.gtin
    for code in offer.codes:
        if len(code) >= 5:
            yield "code:" + code


def _blocking_tokens(offer: Offer) -> set[str]:
    tokens = set(offer.tokens) | set(offer.codes)
    if offer.brand:
        tokens.add("brand:" + offer.brand)
    return tokens


def key_pairs(products: Sequence[Offer], candidates: Sequence[Offer]) -> set[tuple[int, int]]:
    """Pairs sharing a GTIN or a model code of five or more characters."""
    index: dict[str, list[int]] = defaultdict(list)
    for j, offer in enumerate(candidates):
        for key in _keys(offer):
            index[key].append(j)
    pairs: set[tuple[int, int]] = set()
    for i, offer in enumerate(products):
        for key in _keys(offer):
            postings = index.get(key, ())
            if len(postings) <= _MAX_KEY_POSTINGS:
                pairs.update((i, j) for j in postings)
    return pairs


def _tfidf(
    offers: Sequence[Offer], vocabulary: dict[str, int], idf: NDArray[np.float64]
) -> sparse.csr_matrix:
    rows: list[int] = []
    cols: list[int] = []
    for i, offer in enumerate(offers):
        ids = [vocabulary[t] for t in _blocking_tokens(offer) if t in vocabulary]
        rows.extend([i] * len(ids))
        cols.extend(ids)
    values = idf[np.asarray(cols, dtype=np.int64)]
    matrix = sparse.csr_matrix(
        (values, (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64))),
        shape=(len(offers), len(vocabulary)),
    )
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)


def _top_per_row(block: sparse.csr_matrix, k: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(row, column) of each row's ``k`` largest entries."""
    block.eliminate_zeros()
    counts = np.diff(block.indptr)
    rows = np.repeat(np.arange(block.shape[0]), counts)
    order = np.lexsort((-block.data, rows))
    rank = np.arange(len(order)) - np.repeat(block.indptr[:-1], counts)
    keep = order[rank < k]
    return rows[keep].astype(np.int64), block.indices[keep].astype(np.int64)


def token_pairs(
    products: Sequence[Offer], candidates: Sequence[Offer], *, per_product: int, max_df: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Each product's ``per_product`` nearest candidates by TF-IDF cosine over rare tokens."""
    df: dict[str, int] = defaultdict(int)
    for offer in candidates:
        for token in _blocking_tokens(offer):
            df[token] += 1
    vocabulary = {t: n for n, t in enumerate(t for t, c in df.items() if c <= max_df)}
    idf = np.empty(len(vocabulary))
    for token, n in vocabulary.items():
        idf[n] = math.log((1 + len(candidates)) / (1 + df[token])) + 1
    theirs_t = _tfidf(candidates, vocabulary, idf).T.tocsr()
    ours = _tfidf(products, vocabulary, idf)
    found_rows, found_cols = [], []
    for start in range(0, len(products), _BLOCK_ROWS):
        block = sparse.csr_matrix(ours[start : start + _BLOCK_ROWS] @ theirs_t)
        rows, cols = _top_per_row(block, per_product)
        found_rows.append(rows + start)
        found_cols.append(cols)
    if not found_rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(found_rows), np.concatenate(found_cols)


def block_pairs(
    products: Sequence[Offer],
    candidates: Sequence[Offer],
    *,
    per_product: int = 4,
    max_df: int | None = None,
) -> CandidatePairs:
    """Candidate pairs worth scoring: key pairs plus each product's nearest by tokens."""
    if not products or not candidates:
        empty = np.zeros(0, np.int64)
        return CandidatePairs(empty, empty)
    limit = max_df if max_df is not None else max(50, len(candidates) // 200)
    rows, cols = token_pairs(products, candidates, per_product=per_product, max_df=limit)
    pairs = set(zip(rows.tolist(), cols.tolist(), strict=True))
    pairs |= key_pairs(products, candidates)
    ordered = sorted(pairs)
    return CandidatePairs(
        np.fromiter((i for i, _ in ordered), np.int64, len(ordered)),
        np.fromiter((j for _, j in ordered), np.int64, len(ordered)),
    )
