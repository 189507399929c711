"""Character n-gram TF-IDF cosine between titles, computed for many pairs at once.

Words are compared whole elsewhere; character trigrams also see ``photoshop`` in
``photoshopcs3``, ``cyber-shot`` in ``cybershot`` and plural or abbreviated forms. Each
distinct title is turned into an IDF-weighted, L2-normalised sparse row once; a pair's
cosine is then the dot product of its two rows. IDF weights come from the training
offers (shipped beside the model); a trigram unseen there gets the highest weight.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

N = 3
_CHUNK = 50_000  # pairs per sparse row product: bounds the temporary matrices' memory


def char_ngrams(title: str) -> list[str]:
    """The title's character trigrams, words joined by single spaces and padded at both
    ends (``"ab c"`` -> ``[" ab", "ab ", "b c", " c "]``)."""
    text = " " + " ".join(title.split()) + " "
    return [text[i : i + N] for i in range(len(text) - N + 1)] if len(text) > N else []


def fit_char_idf(titles: Iterable[str]) -> dict[str, float]:
    """Smoothed IDF of trigrams over distinct titles; trigrams in one title only are
    left out (they get the unknown-trigram weight)."""
    distinct = set(titles)
    df: dict[str, int] = {}
    for title in distinct:
        for gram in set(char_ngrams(title)):
            df[gram] = df.get(gram, 0) + 1
    n = len(distinct)
    return {g: round(math.log((1 + n) / (1 + c)) + 1, 4) for g, c in sorted(df.items()) if c > 1}


def _rows(titles: Sequence[str], idf: Mapping[str, float]) -> sparse.csr_matrix:
    default = max(idf.values(), default=1.0)
    columns: dict[str, int] = {}
    # typed arrays, not lists: 200,000 titles hold millions of entries
    indptr, indices, data = array("q", [0]), array("q"), array("d")
    for title in titles:
        counts: dict[str, int] = {}
        for gram in char_ngrams(title):
            counts[gram] = counts.get(gram, 0) + 1
        for gram, count in counts.items():
            indices.append(columns.setdefault(gram, len(columns)))
            data.append(count * idf.get(gram, default))
        indptr.append(len(indices))
    matrix = sparse.csr_matrix(
        (
            np.frombuffer(data, np.float64),
            np.frombuffer(indices, np.int64),
            np.frombuffer(indptr, np.int64),
        ),
        shape=(len(titles), max(len(columns), 1)),
    )
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)


def title_char_cosines(
    left: Sequence[str], right: Sequence[str], idf: Mapping[str, float]
) -> NDArray[np.float64]:
    """Cosine of each aligned pair of titles (NaN where either title is empty)."""
    distinct = list(dict.fromkeys([*left, *right]))
    position = {title: n for n, title in enumerate(distinct)}
    matrix = _rows(distinct, idf)
    rows_l = np.fromiter((position[t] for t in left), np.int64, len(left))
    rows_r = np.fromiter((position[t] for t in right), np.int64, len(right))
    cosines = (
        np.concatenate(
            [
                np.asarray(
                    matrix[rows_l[i : i + _CHUNK]]
                    .multiply(matrix[rows_r[i : i + _CHUNK]])
                    .sum(axis=1)
                ).ravel()
                for i in range(0, len(left), _CHUNK)
            ]
        )
        if len(left)
        else np.zeros(0)
    )
    empty = np.fromiter((not a or not b for a, b in zip(left, right, strict=True)), bool, len(left))
    cosines[empty] = np.nan
    return cosines
