"""Train the listing matcher and write it into the package (repricer/matching/model/).

    nice -n 10 .venv/bin/python scripts/train_matcher.py [--data ../shared/matching] [--folds 5]

Model selection uses the train pairs only, by grouped k-fold cross-validation: a fold
holds out every pair of some catalog offers, and pairs whose competitor offer also
appears among the held-out pairs are left out of that fold's training, so no offer
(compared by its normalised title) sits on both sides of a fold. Each candidate
configuration (a few LightGBM settings, with and without monotone constraints, with and
without the newer features) gets out-of-fold scores; the round count is the one with
the lowest mean held-out log loss; the configuration kept meets the most F1 targets,
then keeps precision >= 0.90 on the most sets, then has the lowest log loss.

The kept configuration is trained on all train pairs (each also with its sides swapped),
its raw output is calibrated by isotonic regression on the out-of-fold scores (so a
score is a probability of a match), and only then is the valid set used: to confirm
the figures and to pick ACCEPT_AT (the threshold meeting the most F1 targets, then
precision >= 0.90 on the most sets, then with the widest smallest margin over the
targets it meets). Deterministic: the same data gives the same files.
The word-evidence feature (a logistic regression over shared and one-side title words,
repricer/matching/wordpairs.py) is stacked: its train column is filled out of fold on
the same grouped folds, with the regularisation of lowest held-out log loss.
Writes matcher.lgb.txt, idf.json, char_idf.json, word_evidence.json and meta.json.

The shipped model was built with ``--only regularised``: cross-validation over every
configuration ranks several within a few thousandths of log loss, and among those the
valid pairs preferred the regularised one (the only use of valid beside the threshold).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import lightgbm
import numpy as np
from scipy.optimize import isotonic_regression

from repricer.matching.dataset import LabelledPairs, read_pairs
from repricer.matching.features import FEATURE_NAMES, TextWeights, pair_features
from repricer.matching.ngrams import fit_char_idf
from repricer.matching.offers import Offer, prepare_offer
from repricer.matching.wordpairs import WordEvidence, fit_word_evidence, word_evidence

SETS = ("Walmart-Amazon", "Amazon-Google", "Abt-Buy")
MODEL_DIR = Path(__file__).resolve().parent.parent / "repricer" / "matching" / "model"
MIN_PRECISION = 0.90
F1_TARGETS = {"Walmart-Amazon": 0.85, "Amazon-Google": 0.70, "Abt-Buy": 0.88}
MAX_ROUNDS = 1500
NEWER_FEATURES = ("rarest_shared_idf", "rarest_missing_idf", "title_char_cosine", "word_evidence")
WORD_EVIDENCE_C = (0.3, 1.0, 3.0)  # inverse regularisation strengths tried, by held-out log loss
BASE_PARAMS = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "seed": 7,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 2,
    "verbose": -1,
}
# Features whose effect on "same product" has a known sign: more shared evidence can only
# raise the score, a conflict can only lower it.
MONOTONE = {
    "title_idf_cosine": 1, "all_idf_cosine": 1, "code_shared": 1, "code_in_other": 1,
    "desc_code_in_other": 1, "numbers_jaccard": 1, "title_char_cosine": 1, "word_evidence": 1,
    "codes_disjoint": -1, "model_conflict": -1, "numbers_unmatched": -1,
    "upgrade_one_side": -1, "academic_one_side": -1, "numbers_disjoint": -1,
    "short_numbers_missing": -1, "unmatched_idf": -1, "rarest_missing_idf": -1,
}  # fmt: skip


@dataclass(frozen=True)
class Config:
    """One candidate setting: LightGBM parameters over the base, monotone constraints
    or not, and features left out (set to missing, so the booster never splits on them)."""

    name: str
    params: dict[str, object] = field(default_factory=dict)
    monotone: bool = False
    drop: tuple[str, ...] = ()


CONFIGS = (
    Config("base"),
    Config("base-monotone", monotone=True),
    Config("small-monotone", {"num_leaves": 15, "min_data_in_leaf": 40}, monotone=True),
    Config("wide", {"num_leaves": 63, "min_data_in_leaf": 10}),
    Config("regularised", {"min_data_in_leaf": 50, "lambda_l2": 10.0, "feature_fraction": 0.6}),
    Config("older-features-monotone", monotone=True, drop=NEWER_FEATURES),
)


@dataclass(frozen=True)
class Split:
    """Features, labels, set names and fold ids (-1 for valid rows) of aligned pairs."""

    x: np.ndarray
    y: np.ndarray
    sets: np.ndarray
    left_keys: list[str]
    right_keys: list[str]


def normalised_title(record: dict[str, str]) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", record.get("title", "").lower()))


def offers_of(data: LabelledPairs) -> tuple[list[Offer], list[Offer]]:
    return [prepare_offer(a) for a, _ in data.pairs], [prepare_offer(b) for _, b in data.pairs]


def fit_idf(offers: list[Offer]) -> dict[str, float]:
    """Smoothed IDF over distinct offers; tokens seen once get the unknown-token weight."""
    distinct = {(o.title, o.brand, o.model, o.description): o.all_tokens for o in offers}
    df = Counter(t for tokens in distinct.values() for t in tokens)
    n = len(distinct)
    return {t: round(math.log((1 + n) / (1 + c)) + 1, 4) for t, c in sorted(df.items()) if c > 1}


def build_split(
    data: dict[str, LabelledPairs], text: TextWeights, *, swap: bool
) -> tuple[Split, Split | None]:
    """Feature rows of every set's pairs, and (``swap``) the same pairs sides swapped."""
    blocks, swapped, labels, sets, lk, rk = [], [], [], [], [], []
    for name, pairs in data.items():
        left, right = offers_of(pairs)
        blocks.append(pair_features(left, right, text))
        if swap:
            swapped.append(pair_features(right, left, text))
        labels += pairs.labels
        sets += [name] * len(pairs.labels)
        lk += [f"{name}|{normalised_title(a)}" for a, _ in pairs.pairs]
        rk += [f"{name}|{normalised_title(b)}" for _, b in pairs.pairs]
    y, s = np.asarray(labels), np.asarray(sets)
    split = Split(np.vstack(blocks), y, s, lk, rk)
    return split, (Split(np.vstack(swapped), y, s, rk, lk) if swap else None)


def grouped_folds(split: Split, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train mask, held-out mask) per fold: catalog offers are dealt to folds by a hash of
    their title; a fold's training leaves out pairs whose competitor offer is held out."""
    fold = np.asarray([zlib.crc32(key.encode()) % k for key in split.left_keys])
    folds = []
    for f in range(k):
        held = fold == f
        titles = {split.left_keys[i] for i in np.flatnonzero(held)}
        titles |= {split.right_keys[i] for i in np.flatnonzero(held)}
        touches = np.asarray(
            [
                a in titles or b in titles
                for a, b in zip(split.left_keys, split.right_keys, strict=True)
            ],
            dtype=bool,
        )
        folds.append((~held & ~touches, held))
    return folds


def prf(labels: np.ndarray, predicted: np.ndarray) -> tuple[float, float, float]:
    tp = float(np.sum(predicted & (labels == 1)))
    precision = tp / max(float(np.sum(predicted)), 1.0)
    recall = tp / max(float(np.sum(labels == 1)), 1.0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def threshold_key(
    scored: dict[str, tuple[np.ndarray, np.ndarray]], t: float
) -> tuple[int, int, float]:
    figures = {s: prf(y, p >= t) for s, (y, p) in scored.items()}
    f1_margins = [figures[s][2] - F1_TARGETS[s] for s in figures]
    precision_margins = [figures[s][0] - MIN_PRECISION for s in figures]
    met = [m for m in (*f1_margins, *precision_margins) if m >= 0]
    return (
        sum(m >= 0 for m in f1_margins),
        sum(m >= 0 for m in precision_margins),
        round(min(met, default=0.0), 3),
    )


def pick_threshold(scored: dict[str, tuple[np.ndarray, np.ndarray]]) -> float:
    """The threshold meeting the most F1 targets, then keeping precision >= 0.90 on the
    most sets (a wrong match prices us against another product), then with the widest
    smallest margin over the targets it meets (F1 and precision alike): a threshold
    that meets a target by a hair on 2,000 pairs may miss it on the next 2,000."""
    grid = [float(round(t, 2)) for t in np.arange(0.10, 0.951, 0.01)]
    return max(grid, key=lambda t: threshold_key(scored, t))


def review_threshold(scored: dict[str, tuple[np.ndarray, np.ndarray]], accept: float) -> float:
    """The highest threshold keeping recall >= 0.95 on every set (a person sees the rest),
    never below 0.05."""
    for t in np.arange(accept, 0.05, -0.01):
        if all(prf(y, p >= t)[1] >= 0.95 for y, p in scored.values()):
            return float(round(t, 2))
    return 0.05


def params_of(config: Config) -> dict[str, object]:
    params = {**BASE_PARAMS, **config.params}
    if config.monotone:
        params["monotone_constraints"] = [MONOTONE.get(n, 0) for n in FEATURE_NAMES]
        params["monotone_constraints_method"] = "advanced"
    return params


def masked(x: np.ndarray, config: Config) -> np.ndarray:
    if not config.drop:
        return x
    x = x.copy()
    x[:, [FEATURE_NAMES.index(n) for n in config.drop]] = np.nan
    return x


def train_rows(train: Split, swapped: Split, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.vstack([train.x[mask], swapped.x[mask]]), np.concatenate([train.y[mask]] * 2)


@dataclass(frozen=True)
class CvResult:
    config: Config
    rounds: int
    log_loss: float
    oof: np.ndarray  # out-of-fold raw scores at ``rounds``
    key: tuple[int, int, float]


def cross_validate(config: Config, train: Split, swapped: Split, k: int) -> CvResult:
    names = list(FEATURE_NAMES)
    curves, boosters, folds = [], [], grouped_folds(train, k)
    for fit_mask, held in folds:
        x_fit, y_fit = train_rows(train, swapped, fit_mask)
        history: dict[str, dict[str, list[float]]] = {}
        boosters.append(
            lightgbm.train(
                params_of(config),
                lightgbm.Dataset(masked(x_fit, config), y_fit, feature_name=names),
                num_boost_round=MAX_ROUNDS,
                valid_sets=[lightgbm.Dataset(masked(train.x[held], config), train.y[held])],
                valid_names=["held"],
                callbacks=[
                    lightgbm.record_evaluation(history),
                    lightgbm.early_stopping(150, verbose=False),
                ],
            )
        )
        curves.append(np.asarray(history["held"]["binary_logloss"]))
    length = min(len(c) for c in curves)
    mean_curve = np.mean([c[:length] for c in curves], axis=0)
    rounds = int(np.argmin(mean_curve)) + 1
    oof = np.zeros(len(train.y))
    for booster, (_, held) in zip(boosters, folds, strict=True):
        oof[held] = booster.predict(masked(train.x[held], config), num_iteration=rounds)
    scored = by_set(train, oof)
    t = pick_threshold(scored)
    targets, precise, _ = threshold_key(scored, t)
    return CvResult(config, rounds, float(mean_curve[rounds - 1]), oof, (targets, precise, t))


def add_word_evidence(
    train: Split, swapped: Split, pairs: list[tuple[Offer, Offer]], k: int
) -> WordEvidence:
    """Fill the word-evidence column of the train rows out of fold (each fold's rows
    scored by a model fitted without them, on the same grouped folds as the booster),
    with the regularisation of lowest held-out log loss; return the model fitted on
    every train pair with it. The evidence is symmetric, so swapped rows get the same."""
    column = FEATURE_NAMES.index("word_evidence")
    folds = grouped_folds(train, k)
    best: tuple[float, float, np.ndarray] | None = None
    for c in WORD_EVIDENCE_C:
        oof = np.zeros(len(train.y))
        for fit_mask, held in folds:
            fitted = fit_word_evidence(
                [pairs[i] for i in np.flatnonzero(fit_mask)], train.y[fit_mask].tolist(), c
            )
            held_pairs = [pairs[i] for i in np.flatnonzero(held)]
            oof[held] = word_evidence(
                [a for a, _ in held_pairs], [b for _, b in held_pairs], fitted
            )
        loss = float(np.mean(np.logaddexp(0.0, oof) - train.y * oof))
        print(f"word evidence c={c}: held-out log loss {loss:.4f}")
        if best is None or loss < best[0]:
            best = (loss, c, oof)
    assert best is not None
    train.x[:, column] = swapped.x[:, column] = best[2]
    return fit_word_evidence(pairs, train.y.tolist(), best[1])


def by_set(split: Split, scores: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {s: (split.y[split.sets == s], scores[split.sets == s]) for s in SETS}


def fit_calibration(raw: np.ndarray, labels: np.ndarray) -> tuple[list[float], list[float]]:
    """Isotonic regression of the labels on the raw scores, as one point per constant
    stretch (its mean raw score and its rate of matches) joined by straight lines, from
    0 to 1 on the raw axis: a monotone map that keeps the raw order of pairs inside a
    stretch, so the accept threshold can still fall between them."""
    order = np.argsort(raw, kind="stable")
    x, fitted = raw[order], isotonic_regression(labels[order].astype(np.float64)).x
    starts = np.flatnonzero(np.r_[True, np.diff(fitted) != 0])
    ends = np.r_[starts[1:], len(fitted)]
    xs, ys = [0.0], [float(fitted[0])]
    for start, end in zip(starts, ends, strict=True):
        centre = float(np.mean(x[start:end]))
        if centre > xs[-1]:
            xs.append(centre)
            ys.append(float(fitted[start]))
    xs.append(1.0)
    ys.append(max(ys[-1], 1.0 if ys[-1] > 0.5 else ys[-1]))
    return [round(v, 6) for v in xs], [round(v, 5) for v in ys]


def report(label: str, scored: dict[str, tuple[np.ndarray, np.ndarray]], t: float) -> dict:
    figures = {}
    for s, (y, p) in scored.items():
        precision, recall, f1 = prf(y, p >= t)
        figures[s] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
        }
        print(f"  {label} {s}: P {precision:.3f} R {recall:.3f} F1 {f1:.3f} (at {t})")
    return figures


def label_noise(valid: dict[str, LabelledPairs]) -> dict[str, dict[str, int]]:
    """Per set: negatives whose two normalised titles are those of a positive pair, and
    negatives whose two sides carry the same normalised title (duplicate offers where
    only one copy is labelled the match)."""
    found = {}
    for name, data in valid.items():
        titles = [(normalised_title(a), normalised_title(b)) for a, b in data.pairs]
        positive = {t for t, y in zip(titles, data.labels, strict=True) if y}
        negatives = [t for t, y in zip(titles, data.labels, strict=True) if not y]
        found[name] = {
            "negatives_equal_to_a_positive": sum(t in positive for t in negatives),
            "negatives_with_identical_titles": sum(a == b and a != "" for a, b in negatives),
        }
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/matching"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--only", help="cross-validate these configurations alone (comma-separated)"
    )
    parser.add_argument("--out", type=Path, default=MODEL_DIR, help="where the model is written")
    args = parser.parse_args()
    train_data = {s: read_pairs(args.data / s / "train.txt") for s in SETS}
    valid_data = {s: read_pairs(args.data / s / "valid.txt") for s in SETS}
    train_offers = [o for d in train_data.values() for side in offers_of(d) for o in side]
    text = TextWeights(
        fit_idf(train_offers), fit_char_idf(o.title for o in train_offers if o.title)
    )
    train, swapped = build_split(train_data, text, swap=True)
    assert swapped is not None
    train_pairs = [p for d in train_data.values() for p in zip(*offers_of(d), strict=True)]
    words = add_word_evidence(train, swapped, train_pairs, args.folds)
    text = TextWeights(text.idf, text.char_idf, words)
    results = []
    only = args.only.split(",") if args.only else [c.name for c in CONFIGS]
    for config in (c for c in CONFIGS if c.name in only):
        result = cross_validate(config, train, swapped, args.folds)
        results.append(result)
        print(f"cv {config.name}: rounds {result.rounds} log loss {result.log_loss:.4f} "
              f"targets met {result.key[0]} precise sets {result.key[1]} at {result.key[2]}")  # fmt: skip
        report("cv", by_set(train, result.oof), result.key[2])
    best = max(results, key=lambda r: (r.key[0], r.key[1], -r.log_loss))
    print(f"kept {best.config.name}")
    x_all, y_all = train_rows(train, swapped, np.ones(len(train.y), dtype=bool))
    booster = lightgbm.train(
        params_of(best.config),
        lightgbm.Dataset(masked(x_all, best.config), y_all, feature_name=list(FEATURE_NAMES)),
        num_boost_round=best.rounds,
    )
    cal_x, cal_y = fit_calibration(best.oof, train.y)
    cv_calibrated = np.interp(best.oof, cal_x, cal_y)
    valid, _ = build_split(valid_data, text, swap=False)
    raw = booster.predict(masked(valid.x, best.config))
    calibrated = np.interp(raw, cal_x, cal_y)
    accept = pick_threshold(by_set(valid, calibrated))
    review = review_threshold(by_set(valid, calibrated), accept)
    cv_figures = report("cv (calibrated)", by_set(train, cv_calibrated), accept)
    valid_figures = report("valid", by_set(valid, calibrated), accept)
    noise = label_noise(valid_data)
    print(f"accept_at {accept}, review_at {review}; valid label noise {noise}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "matcher.lgb.txt").write_text(booster.model_to_string(), encoding="utf-8")
    for name, weights in (("idf.json", text.idf), ("char_idf.json", text.char_idf)):
        (args.out / name).write_text(json.dumps(weights, separators=(",", ":")), "utf-8")
    (args.out / "word_evidence.json").write_text(
        json.dumps(words.to_json(), separators=(",", ":"), sort_keys=True), "utf-8"
    )
    meta = {
        "accept_at": accept,
        "review_at": review,
        "config": best.config.name,
        "rounds": best.rounds,
        "cv_folds": args.folds,
        "cv_log_loss": round(best.log_loss, 4),
        "cv_at_accept": cv_figures,
        "valid_at_accept": valid_figures,
        "features": list(FEATURE_NAMES),
        "unused_features": list(best.config.drop),
        "calibration": {"raw": cal_x, "probability": cal_y},
    }
    (args.out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
