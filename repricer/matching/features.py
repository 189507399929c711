"""Pair features: how alike two prepared offers are, as one row of floats per pair.

Most features are symmetric (min/max of both directions) so that which side is "ours"
does not matter. Missing values are NaN; the model treats them as missing. The column
order is :data:`FEATURE_NAMES`; the shipped model was trained on exactly these.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import fuzz
from rapidfuzz.distance import Indel
from rapidfuzz.process import cpdist

from repricer.matching._variants import VARIANT_WORDS
from repricer.matching.ngrams import title_char_cosines
from repricer.matching.offers import Offer
from repricer.matching.wordpairs import WordEvidence, word_evidence

FEATURE_NAMES = (
    "title_ratio", "title_token_set", "title_token_sort", "title_partial",
    "title_idf_cosine", "all_idf_cosine", "title_jaccard", "compact_title_ratio",
    "code_shared", "code_shared_len", "code_in_other", "code_best_ratio",
    "codes_disjoint", "model_equal", "model_conflict", "desc_code_in_other",
    "numbers_jaccard", "numbers_unmatched", "brand_equal", "brand_ratio",
    "brand_in_other_title", "brand_missing", "price_ratio", "tokens_min", "tokens_max",
    "category_ratio", "title_in_description", "has_description", "has_model",
    "has_category", "variant_words_differ", "unmatched_idf",
    "platform_conflict", "editions_differ", "upgrade_one_side", "academic_one_side",
    "numbers_disjoint", "short_numbers_missing", "rarest_shared_idf", "rarest_missing_idf",
    "title_char_cosine", "word_evidence",
)  # fmt: skip

_CHAR_COLUMN = FEATURE_NAMES.index("title_char_cosine")
_WORD_COLUMN = FEATURE_NAMES.index("word_evidence")
_LOOP_COLUMNS = [4, 5, 6, *range(8, _CHAR_COLUMN)]  # the columns not done by cpdist or ngrams
_MIN_SUBSTRING_CODE = 5  # shorter codes appear inside unrelated strings too often


@dataclass(frozen=True)
class TextWeights:
    """IDF weights fitted on the training offers: ``idf`` per word token, ``char_idf``
    per title character trigram (see :mod:`repricer.matching.ngrams`); ``words`` the
    learned word evidence (:mod:`repricer.matching.wordpairs`), None while training
    (its column is then left missing and filled out of fold)."""

    idf: Mapping[str, float]
    char_idf: Mapping[str, float]
    words: WordEvidence | None = None


def pair_features(
    left: Sequence[Offer], right: Sequence[Offer], text: TextWeights
) -> NDArray[np.float32]:
    """Feature matrix (len(left) x len(FEATURE_NAMES)) for the aligned pairs."""
    if len(left) != len(right):
        raise ValueError("left and right must be the same length")
    out = np.full((len(left), len(FEATURE_NAMES)), np.nan, dtype=np.float32)
    if not left:
        return out
    titles_l = [o.title for o in left]
    titles_r = [o.title for o in right]
    out[:, 0] = cpdist(titles_l, titles_r, scorer=fuzz.ratio, workers=-1) / 100
    out[:, 1] = cpdist(titles_l, titles_r, scorer=fuzz.token_set_ratio, workers=-1) / 100
    out[:, 2] = cpdist(titles_l, titles_r, scorer=fuzz.token_sort_ratio, workers=-1) / 100
    out[:, 3] = cpdist(titles_l, titles_r, scorer=fuzz.partial_ratio, workers=-1) / 100
    out[:, 7] = cpdist(
        [o.compact_title for o in left],
        [o.compact_title for o in right],
        scorer=Indel.normalized_similarity,
        workers=-1,
    )
    out[:, _CHAR_COLUMN] = title_char_cosines(titles_l, titles_r, text.char_idf)
    if text.words is not None:
        out[:, _WORD_COLUMN] = word_evidence(left, right, text.words)
    weights = _Weights(text.idf)
    rows = [
        (
            *_token_features(a, b, weights),
            *_code_features(a, b),
            *_number_brand_features(a, b),
            *_other_features(a, b, weights),
            *_difference_features(a, b, weights),
            *_edition_features(a, b),
            *_version_features(a, b),
            *_rarity_features(a, b, weights),
        )
        for a, b in zip(left, right, strict=True)
    ]
    out[:, _LOOP_COLUMNS] = np.asarray(rows, dtype=np.float32)
    return out


class _Weights:
    """IDF weights and each token set's squared norm, computed once per set per call
    (an offer meets several others in one batch)."""

    def __init__(self, idf: Mapping[str, float]) -> None:
        self.idf = idf
        self.default = max(idf.values(), default=1.0)
        self._norms: dict[int, tuple[frozenset[str], float]] = {}

    def weight(self, token: str) -> float:
        return self.idf.get(token, self.default)

    def norm(self, tokens: frozenset[str]) -> float:
        known = self._norms.get(id(tokens))
        if known is None or known[0] is not tokens:
            known = (tokens, sum(self.idf.get(t, self.default) ** 2 for t in tokens))
            self._norms[id(tokens)] = known
        return known[1]

    def cosine(self, a: frozenset[str], b: frozenset[str]) -> float:
        if not a or not b:
            return math.nan
        shared = sum(self.idf.get(t, self.default) ** 2 for t in a & b)
        return shared / math.sqrt(self.norm(a) * self.norm(b))


def _token_features(a: Offer, b: Offer, weights: _Weights) -> tuple[float, float, float]:
    union = a.tokens | b.tokens
    jaccard = len(a.tokens & b.tokens) / len(union) if union else math.nan
    return (
        weights.cosine(a.tokens, b.tokens),
        weights.cosine(a.all_tokens, b.all_tokens),
        jaccard,
    )


def _code_in(codes: frozenset[str], compact: str) -> float:
    return float(any(len(c) >= _MIN_SUBSTRING_CODE and c in compact for c in codes))


def _code_features(a: Offer, b: Offer) -> tuple[float, ...]:
    shared = a.codes & b.codes
    code_in_other = max(_code_in(a.codes, b.compact), _code_in(b.codes, a.compact))
    best = max(
        (Indel.normalized_similarity(x, y) for x in a.codes for y in b.codes), default=math.nan
    )
    both = bool(a.codes and b.codes)
    disjoint = float(both and not shared and not code_in_other) if both else math.nan
    models = bool(a.model and b.model)
    model_equal = float(a.model == b.model) if models else math.nan
    conflict = float(a.model not in b.compact and b.model not in a.compact) if models else math.nan
    desc_in = max(_code_in(a.desc_codes, b.compact_title), _code_in(b.desc_codes, a.compact_title))
    return (
        float(bool(shared)),
        float(max((len(c) for c in shared), default=0)),
        code_in_other,
        best,
        disjoint,
        model_equal,
        conflict,
        desc_in,
    )


def _number_brand_features(a: Offer, b: Offer) -> tuple[float, ...]:
    union = a.numbers | b.numbers
    numbers_jaccard = len(a.numbers & b.numbers) / len(union) if union else math.nan
    unmatched = float(min(len(a.numbers - b.numbers), len(b.numbers - a.numbers)))
    if a.brand and b.brand:
        brand_equal = float(a.brand == b.brand)
        brand_ratio = fuzz.ratio(a.brand, b.brand) / 100
        missing = 0.0
    else:
        brand_equal = brand_ratio = math.nan
        missing = 1.0 if (a.brand or b.brand) else 2.0
    in_title = max(
        float(bool(a.brand) and a.brand in b.title), float(bool(b.brand) and b.brand in a.title)
    )
    return numbers_jaccard, unmatched, brand_equal, brand_ratio, in_title, missing


def _other_features(a: Offer, b: Offer, weights: _Weights) -> tuple[float, ...]:
    prices = (a.price, b.price)
    price_ratio = min(prices) / max(prices) if not any(map(math.isnan, prices)) else math.nan
    category = (
        fuzz.token_set_ratio(a.category, b.category) / 100
        if a.category and b.category
        else math.nan
    )
    title_in_desc = max(
        weights.cosine(a.tokens, b.all_tokens) if b.description else 0.0,
        weights.cosine(b.tokens, a.all_tokens) if a.description else 0.0,
    )
    return (
        price_ratio,
        float(min(len(a.tokens), len(b.tokens))),
        float(max(len(a.tokens), len(b.tokens))),
        category,
        title_in_desc,
        float(bool(a.description) + bool(b.description)),
        float(bool(a.model) + bool(b.model)),
        float(bool(a.category) + bool(b.category)),
    )


def _difference_features(a: Offer, b: Offer, weights: _Weights) -> tuple[float, float]:
    """Edition/variant words on one side only (``upgrade``, ``mac``, ``pro``), and how
    rare the shorter title's words missing from the other side are."""
    variants = float(len((a.tokens ^ b.tokens) & VARIANT_WORDS))
    short, other = (a, b) if len(a.tokens) <= len(b.tokens) else (b, a)
    missing = short.tokens - other.all_tokens
    return variants, sum(weights.weight(t) for t in missing)


def _edition_features(a: Offer, b: Offer) -> tuple[float, ...]:
    """Platform and edition disagreements (Mac vs Windows, upgrade vs full, academic)."""
    if a.platforms and b.platforms:
        platform = float(not a.platforms & b.platforms)
    else:
        platform = 0.5 if (a.platforms or b.platforms) else math.nan
    return (
        platform,
        float(len(a.editions ^ b.editions)),
        float(("upgrade" in a.editions) != ("upgrade" in b.editions)),
        float(("academic" in a.editions) != ("academic" in b.editions)),
    )


def _version_features(a: Offer, b: Offer) -> tuple[float, float]:
    """Version and size numbers: none shared, and the shorter title's numbers found
    nowhere on the other side (``cs3`` vs ``cs4``, 2004 vs 2007)."""
    disjoint = float(not a.numbers & b.numbers) if a.numbers and b.numbers else math.nan
    short, other = (a, b) if len(a.tokens) <= len(b.tokens) else (b, a)
    return disjoint, float(len(short.numbers - other.all_numbers))


def _rarity_features(a: Offer, b: Offer, weights: _Weights) -> tuple[float, float]:
    """The rarest title word both sides share (a rare shared word names the product),
    and the rarest word of the shorter title found nowhere on the other side (a rare
    word missing names another product); IDF weights, NaN / 0 when there is none."""
    shared = a.tokens & b.tokens
    rarest_shared = max((weights.weight(t) for t in shared), default=math.nan)
    short, other = (a, b) if len(a.tokens) <= len(b.tokens) else (b, a)
    missing = short.tokens - other.all_tokens
    return rarest_shared, max((weights.weight(t) for t in missing), default=0.0)
