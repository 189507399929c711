"""Learned word evidence: which title words, present on one side only, speak against a match.

The hand-made word lists of :mod:`repricer.matching._variants` name the usual edition and
platform words; this linear model learns a weight for every word that, in enough training
pairs, appears in one title and nowhere on the other side (``upgrade``, ``cs2``,
``academic``, ``mac``, a colour, a year). A pair's evidence is the model's log-odds of a
match; it is one feature of the booster (fitted out of fold in training, see
``scripts/train_matcher.py``) and ships as a small table of weights. Words both sides
share are left to the similarity features: weights for them would learn which product
lines the training pairs happen to hold.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import minimize

from repricer.matching.offers import Offer

MIN_PAIRS = 3  # a word in fewer training pairs gets no weight of its own


@dataclass(frozen=True)
class WordEvidence:
    """Log-odds weights per word of one title absent from the whole other offer
    (``one_side``), plus ``bias``; unknown words weigh 0."""

    one_side: Mapping[str, float]
    bias: float

    def to_json(self) -> dict[str, object]:
        return {"bias": self.bias, "one_side": dict(self.one_side)}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> WordEvidence:
        one_side = data["one_side"]
        if not isinstance(one_side, dict):
            raise ValueError("word evidence: 'one_side' must be an object of weights")
        return cls(one_side, float(str(data["bias"])))


def one_side_words(a: Offer, b: Offer) -> frozenset[str]:
    """Title words of either side that the other offer (title, brand, model, description
    head) lacks; the same whichever side is ``a``."""
    return (a.tokens - b.all_tokens) | (b.tokens - a.all_tokens)


def word_evidence(
    left: Sequence[Offer], right: Sequence[Offer], model: WordEvidence
) -> NDArray[np.float64]:
    """The log-odds of a match for each aligned pair."""
    weights, bias = model.one_side, model.bias
    return np.fromiter(
        (
            bias + sum(weights.get(w, 0.0) for w in one_side_words(a, b))
            for a, b in zip(left, right, strict=True)
        ),
        np.float64,
        len(left),
    )


def _design(words: Sequence[frozenset[str]], columns: Mapping[str, int]) -> sparse.csr_matrix:
    """One row per pair: a 1 per known word, and a last column of ones (the bias)."""
    rows, cols = [], []
    for i, found in enumerate(words):
        for w in found:
            j = columns.get(w)
            if j is not None:
                rows.append(i)
                cols.append(j)
    matrix = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(words), len(columns)))
    bias = sparse.csr_matrix(np.ones((len(words), 1)))
    return sparse.csr_matrix(sparse.hstack([matrix, bias]))


def fit_word_evidence(
    pairs: Iterable[tuple[Offer, Offer]], labels: Sequence[int], c: float = 1.0
) -> WordEvidence:
    """L2-regularised logistic regression (inverse strength ``c``) of the labels on the
    pairs' one-side words, for words in at least :data:`MIN_PAIRS` pairs."""
    words = [one_side_words(a, b) for a, b in pairs]
    counts = Counter(w for found in words for w in found)
    keys = sorted(w for w, n in counts.items() if n >= MIN_PAIRS)
    x = _design(words, {w: j for j, w in enumerate(keys)})
    y = np.asarray(labels, dtype=np.float64)

    def loss(w: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        z = x @ w
        grad = x.T @ (1.0 / (1.0 + np.exp(-z)) - y)
        grad[:-1] += w[:-1] / c  # the bias is not regularised
        return float(np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 / c * w[:-1] @ w[:-1]), grad

    w = minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B").x
    weights = {k: round(float(v), 4) for k, v in zip(keys, w, strict=False) if abs(v) >= 1e-3}
    return WordEvidence(weights, round(float(w[-1]), 4))
