"""Train the listing matcher and write it into the package (repricer/matching/model/).

    .venv/bin/python scripts/train_matcher.py [--data ../shared/matching]

Reads the train and valid pairs of the three benchmark sets, fits token IDF weights on
the train offers, trains one LightGBM model for all sets on the pair features (each
pair also seen with its sides swapped), stops on the valid loss, then picks ACCEPT_AT on
valid: the threshold meeting the most F1 targets (0.85 / 0.70 / 0.88), then keeping
precision >= 0.90 on the most sets, then with the highest worst-set precision, then
the largest worst-set F1 margin. Deterministic (fixed seed, deterministic LightGBM): the same data gives the
same files. Prints the valid figures and writes matcher.lgb.txt, idf.json and meta.json.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from pathlib import Path

import lightgbm
import numpy as np

from repricer.matching.dataset import LabelledPairs, read_pairs
from repricer.matching.features import FEATURE_NAMES, pair_features
from repricer.matching.offers import Offer, prepare_offer

SETS = ("Walmart-Amazon", "Amazon-Google", "Abt-Buy")
MODEL_DIR = Path(__file__).resolve().parent.parent / "repricer" / "matching" / "model"
MIN_PRECISION = 0.90
F1_TARGETS = {"Walmart-Amazon": 0.85, "Amazon-Google": 0.70, "Abt-Buy": 0.88}
PARAMS = {
    "objective": "binary",
    "learning_rate": 0.03,
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


def offers_of(data: LabelledPairs) -> tuple[list[Offer], list[Offer]]:
    return [prepare_offer(a) for a, _ in data.pairs], [prepare_offer(b) for _, b in data.pairs]


def fit_idf(offers: list[Offer]) -> dict[str, float]:
    """Smoothed IDF over distinct offers; tokens seen once get the unknown-token weight."""
    distinct = {(o.title, o.brand, o.model, o.description): o.all_tokens for o in offers}
    df = Counter(t for tokens in distinct.values() for t in tokens)
    n = len(distinct)
    return {t: round(math.log((1 + n) / (1 + c)) + 1, 4) for t, c in sorted(df.items()) if c > 1}


def prf(labels: np.ndarray, predicted: np.ndarray) -> tuple[float, float, float]:
    tp = float(np.sum(predicted & (labels == 1)))
    precision = tp / max(float(np.sum(predicted)), 1.0)
    recall = tp / max(float(np.sum(labels == 1)), 1.0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def pick_threshold(valid: dict[str, tuple[np.ndarray, np.ndarray]]) -> float:
    """The threshold meeting the most per-set F1 targets, then keeping precision >= 0.90
    on the most sets (a wrong match prices us against another product), then with the
    highest worst-set precision, then the largest worst-set margin over the F1 targets."""
    best, best_key = 0.5, (-1, -1, -1.0, -1.0)
    for t in np.arange(0.10, 0.951, 0.02):
        scores = {s: prf(y, p >= t) for s, (y, p) in valid.items()}
        margins = [scores[s][2] - F1_TARGETS[s] for s in scores]
        key = (
            sum(m >= 0 for m in margins),
            sum(scores[s][0] >= MIN_PRECISION for s in scores),
            round(min(scores[s][0] for s in scores), 3),
            min(margins),
        )
        if key > best_key:
            best, best_key = float(round(t, 2)), key
    return best


def review_threshold(valid: dict[str, tuple[np.ndarray, np.ndarray]], accept: float) -> float:
    """The highest threshold keeping recall >= 0.95 on every set (a person sees the rest),
    never below 0.1."""
    for t in np.arange(accept, 0.1, -0.01):
        if all(prf(y, p >= t)[1] >= 0.95 for y, p in valid.values()):
            return float(round(t, 2))
    return 0.1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/matching"))
    args = parser.parse_args()
    train = {s: read_pairs(args.data / s / "train.txt") for s in SETS}
    valid = {s: read_pairs(args.data / s / "valid.txt") for s in SETS}
    train_offers = {s: offers_of(d) for s, d in train.items()}
    idf = fit_idf([o for left, right in train_offers.values() for o in left + right])

    def matrix(sides: dict[str, tuple[list[Offer], list[Offer]]], swap: bool) -> np.ndarray:
        blocks = [pair_features(left, right, idf) for left, right in sides.values()]
        if swap:
            blocks += [pair_features(right, left, idf) for left, right in sides.values()]
        return np.vstack(blocks)

    x_train = matrix(train_offers, swap=True)
    y_train = np.concatenate([d.labels for d in train.values()] * 2)
    valid_offers = {s: offers_of(d) for s, d in valid.items()}
    x_valid = matrix(valid_offers, swap=False)
    y_valid = np.concatenate([d.labels for d in valid.values()])
    names = list(FEATURE_NAMES)
    booster = lightgbm.train(
        PARAMS,
        lightgbm.Dataset(x_train, y_train, feature_name=names),
        num_boost_round=2000,
        valid_sets=[lightgbm.Dataset(x_valid, y_valid, feature_name=names)],
        callbacks=[lightgbm.early_stopping(100, verbose=False)],
    )
    predictions: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for s, (left, right) in valid_offers.items():
        p = booster.predict(pair_features(left, right, idf), num_iteration=booster.best_iteration)
        predictions[s] = (np.asarray(valid[s].labels), np.asarray(p))
    accept = pick_threshold(predictions)
    review = review_threshold(predictions, accept)
    for s, (y, p) in predictions.items():
        precision, recall, f1 = prf(y, p >= accept)
        print(f"{s}: precision {precision:.3f} recall {recall:.3f} F1 {f1:.3f}")
    print(f"rounds {booster.best_iteration}, accept_at {accept}, review_at {review}")
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    (MODEL_DIR / "matcher.lgb.txt").write_text(
        booster.model_to_string(num_iteration=booster.best_iteration), encoding="utf-8"
    )
    (MODEL_DIR / "idf.json").write_text(json.dumps(idf, separators=(",", ":")), encoding="utf-8")
    meta = {"accept_at": accept, "review_at": review, "features": names}
    (MODEL_DIR / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
