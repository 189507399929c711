"""Pair features: how alike two prepared offers are, as one row of floats per pair.

Most features are symmetric (min/max of both directions) so that which side is "ours"
does not matter. Missing values are NaN; the model treats them as missing. The column
order is :data:`FEATURE_NAMES`; the shipped model was trained on exactly these.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import fuzz
from rapidfuzz.distance import Indel
from rapidfuzz.process import cpdist

from repricer.matching._variants import VARIANT_WORDS
from repricer.matching.offers import Offer

FEATURE_NAMES = (
    "title_ratio", "title_token_set", "title_token_sort", "title_partial",
    "title_idf_cosine", "all_idf_cosine", "title_jaccard", "compact_title_ratio",
    "code_shared", "code_shared_len", "code_in_other", "code_best_ratio",
    "codes_disjoint", "model_equal", "model_conflict", "desc_code_in_other",
    "numbers_jaccard", "numbers_unmatched", "brand_equal", "brand_ratio",
    "brand_in_other_title", "brand_missing", "price_ratio", "tokens_min", "tokens_max",
    "category_ratio", "title_in_description", "has_description", "has_model",
    "has_category", "variant_words_differ", "unmatched_idf",
)  # fmt: skip

_MIN_SUBSTRING_CODE = 5  # shorter codes appear inside unrelated strings too often


def pair_features(
    left: Sequence[Offer], right: Sequence[Offer], idf: Mapping[str, float]
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
    default_idf = max(idf.values(), default=1.0)
    for i, (a, b) in enumerate(zip(left, right, strict=True)):
        out[i, 4:7] = _token_features(a, b, idf, default_idf)
        out[i, 8:16] = _code_features(a, b)
        out[i, 16:22] = _number_brand_features(a, b)
        out[i, 22:30] = _other_features(a, b, idf, default_idf)
        out[i, 30:32] = _difference_features(a, b, idf, default_idf)
    return out


def _idf_cosine(
    a: frozenset[str], b: frozenset[str], idf: Mapping[str, float], default: float
) -> float:
    if not a or not b:
        return math.nan
    shared = sum(idf.get(t, default) ** 2 for t in a & b)
    norm_a = sum(idf.get(t, default) ** 2 for t in a)
    norm_b = sum(idf.get(t, default) ** 2 for t in b)
    return shared / math.sqrt(norm_a * norm_b)


def _token_features(
    a: Offer, b: Offer, idf: Mapping[str, float], default: float
) -> tuple[float, float, float]:
    union = a.tokens | b.tokens
    jaccard = len(a.tokens & b.tokens) / len(union) if union else math.nan
    return (
        _idf_cosine(a.tokens, b.tokens, idf, default),
        _idf_cosine(a.all_tokens, b.all_tokens, idf, default),
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


def _other_features(
    a: Offer, b: Offer, idf: Mapping[str, float], default: float
) -> tuple[float, ...]:
    prices = (a.price, b.price)
    price_ratio = min(prices) / max(prices) if not any(map(math.isnan, prices)) else math.nan
    category = (
        fuzz.token_set_ratio(a.category, b.category) / 100
        if a.category and b.category
        else math.nan
    )
    title_in_desc = max(
        _idf_cosine(a.tokens, b.all_tokens, idf, default) if b.description else 0.0,
        _idf_cosine(b.tokens, a.all_tokens, idf, default) if a.description else 0.0,
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


def _difference_features(
    a: Offer, b: Offer, idf: Mapping[str, float], default: float
) -> tuple[float, float]:
    """Edition/variant words on one side only (``upgrade``, ``mac``, ``pro``), and how
    rare the shorter title's words missing from the other side are."""
    variants = float(len((a.tokens ^ b.tokens) & VARIANT_WORDS))
    short, other = (a, b) if len(a.tokens) <= len(b.tokens) else (b, a)
    missing = short.tokens - other.all_tokens
    return variants, sum(idf.get(t, default) for t in missing)
