"""Benchmark: matching a catalog against a competitor's candidates, and matching quality.

1. Scale: N synthetic catalog products against M synthetic candidate pages (most are
   re-worded copies of a product, with the model code written differently and a GTIN on
   half of them; the rest are near-miss products of the same brands) matched end to end
   (prepare, block, score, assign) with :func:`repricer.matching.match.match_offers`.
   The baseline beside it, a rapidfuzz title ``token_set_ratio`` against every candidate
   (quadratic), runs on a sample of products and its time is extrapolated to N.
2. Quality: pairwise precision / recall / F1 of ``score_pairs`` at ``ACCEPT_AT`` on the
   valid pairs of ../shared/matching (when present), beside the baseline: the same
   ``token_set_ratio`` with its threshold tuned for F1 on the train pairs.

Prints both, then one JSON object on the last line.

    .venv/bin/python bench/matching.py [--n 100000] [--m 100000] [--data ../shared/matching]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import string
import sys
import time
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.process import cdist, cpdist

ROOT = Path(__file__).resolve().parents[1]
# The labelled pairs sit beside the checkout (../shared/matching), or one level up.
SHARED = next(
    (p for p in (ROOT.parent / "shared" / "matching", ROOT.parents[1] / "shared" / "matching")
     if p.is_dir()),
    ROOT.parent / "shared" / "matching",
)  # fmt: skip
sys.path.insert(0, str(ROOT))

from repricer.matching import ACCEPT_AT, score_pairs  # noqa: E402
from repricer.matching.codes import gtin_check_digit  # noqa: E402
from repricer.matching.dataset import read_pairs  # noqa: E402
from repricer.matching.match import match_offers  # noqa: E402
from repricer.matching.offers import prepare_offers  # noqa: E402

SETS = {"walmart_amazon": "Walmart-Amazon", "amazon_google": "Amazon-Google", "abt_buy": "Abt-Buy"}
BRANDS = ["bosch", "makita", "sony", "canon", "philips", "tefal", "braun", "samsung", "lg",
          "panasonic", "dewalt", "nikon", "logitech", "belkin", "garmin", "epson", "hp", "asus",
          "xiaomi", "redmond", "polaris", "vitek", "scarlett", "kenwood", "delonghi", "karcher"]  # fmt: skip
KINDS = ["electric kettle", "cordless drill", "digital camera", "toner cartridge", "blender",
         "vacuum cleaner", "hair dryer", "laser printer", "wireless mouse", "gps navigator",
         "coffee machine", "steam iron", "angle grinder", "bluetooth speaker", "monitor",
         "microwave oven", "electric shaver", "router", "power bank", "headphones"]  # fmt: skip
ATTRS = ["black", "white", "silver", "red", "1.7 l", "2000 w", "18 v", "500 gb", "pro",
         "compact", "steel", "glass", "set", "kit", "2 pcs", "blue", "xl", "wifi"]  # fmt: skip


def _code(rng: random.Random) -> str:
    letters = "".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 3)))
    return f"{letters}{rng.randint(100, 99999)}{rng.choice(['', 'b', 'p', 'x'])}"


def _gtin(rng: random.Random) -> str:
    body = "46" + "".join(rng.choices(string.digits, k=10))
    return body + str(gtin_check_digit(body))


def synthetic(
    n: int, m: int, seed: int = 11
) -> tuple[list[dict[str, str]], list[dict[str, str]], dict[int, int]]:
    """Products, candidates and the truth (candidate index -> product index)."""
    rng = random.Random(seed)
    products = []
    for _ in range(n):
        brand, kind, code = rng.choice(BRANDS), rng.choice(KINDS), _code(rng)
        attrs = " ".join(rng.sample(ATTRS, 2))
        products.append({"title": f"{brand} {kind} {code.upper()} {attrs}", "brand": brand,
                         "price": str(rng.randint(500, 90000)), "gtin": _gtin(rng), "model": code})  # fmt: skip
    candidates, truth = [], {}
    copied = iter(rng.sample(range(n), min(n, int(m * 0.7))))  # each product at most once
    for j in range(m):
        i = next(copied, -1) if rng.random() < 0.7 else -1
        if i >= 0:
            p = products[i]
            words = p["title"].split()
            code = p["model"]
            shown = code[:2].upper() + "-" + code[2:] if rng.random() < 0.5 else code.upper()
            words = [w for w in words if w.lower() != code]
            rng.shuffle(words)
            title = " ".join([*words[: max(3, len(words) - 1)], shown])
            price = str(int(int(p["price"]) * rng.uniform(0.85, 1.15)))
            gtin = p["gtin"] if rng.random() < 0.5 else ""
            candidates.append({"title": title, "brand": p["brand"], "price": price, "gtin": gtin})
            truth[j] = i
        else:
            brand, kind = rng.choice(BRANDS), rng.choice(KINDS)
            title = f"{brand} {kind} {_code(rng).upper()} {' '.join(rng.sample(ATTRS, 2))}"
            candidates.append(
                {"title": title, "brand": brand, "price": str(rng.randint(500, 90000))}
            )
    return products, candidates, truth


def run_scale(n: int, m: int, sample: int) -> dict[str, float]:
    products, candidates, truth = synthetic(n, m)
    started, cpu_started = time.perf_counter(), time.process_time()
    ours = prepare_offers(products)
    theirs = prepare_offers(candidates)
    matches = match_offers(ours, theirs)
    match_s = time.perf_counter() - started
    match_cpu_s = time.process_time() - cpu_started  # honest on a shared, loaded machine
    accepted = {(x.product, x.candidate) for x in matches if x.accepted}
    right = sum(1 for i, j in accepted if truth.get(j) == i)
    precision = right / max(len(accepted), 1)
    recall = right / max(len(truth), 1)
    started = time.perf_counter()
    titles = [c["title"] for c in candidates]
    cdist([p["title"] for p in products[:sample]], titles, scorer=fuzz.token_set_ratio,
          workers=-1, dtype=np.uint8)  # fmt: skip
    baseline_s = (time.perf_counter() - started) * n / sample
    print(f"scale: {n} x {m}: ours {match_s:.1f}s wall, {match_cpu_s:.1f}s CPU (accepted {len(accepted)}, precision "
          f"{precision:.3f}, recall {recall:.3f}); baseline all-pairs token_set_ratio "
          f"~{baseline_s:.0f}s (extrapolated from {sample} products)")  # fmt: skip
    return {"match_s": round(match_s, 2), "match_cpu_s": round(match_cpu_s, 2),
            "loadavg_1m": round(os.getloadavg()[0], 1), "synthetic_precision": round(precision, 4),
            "synthetic_recall": round(recall, 4), "baseline_match_s": round(baseline_s, 1)}  # fmt: skip


def prf(labels: list[int], predicted: list[bool]) -> tuple[float, float, float]:
    tp = sum(1 for y, p in zip(labels, predicted, strict=True) if y and p)
    precision = tp / max(sum(predicted), 1)
    recall = tp / max(sum(labels), 1)
    return precision, recall, 2 * precision * recall / (precision + recall) if tp else 0.0


def _titles(pairs: list[tuple[dict[str, str], dict[str, str]]]) -> np.ndarray:
    return np.asarray(cpdist([a.get("title", "") for a, _ in pairs],
                             [b.get("title", "") for _, b in pairs],
                             scorer=fuzz.token_set_ratio, workers=-1))  # fmt: skip


def run_quality(data: Path) -> dict[str, float]:
    result: dict[str, float] = {}
    if not any((data / name / "valid.txt").exists() for name in SETS.values()):
        print(f"no labelled pairs under {data}: quality not measured", file=sys.stderr)
    for key, name in SETS.items():
        if not (data / name / "valid.txt").exists():
            continue
        train, valid = read_pairs(data / name / "train.txt"), read_pairs(data / name / "valid.txt")
        p, r, f1 = prf(valid.labels, [s >= ACCEPT_AT for s in score_pairs(valid.pairs)])
        train_sim = _titles(train.pairs)
        cut = max(range(0, 101), key=lambda t: prf(train.labels, list(train_sim >= t))[2])
        bp, br, bf1 = prf(valid.labels, list(_titles(valid.pairs) >= cut))
        print(f"{name} valid: ours P {p:.3f} R {r:.3f} F1 {f1:.3f} | baseline token_set_ratio "
              f">= {cut}: P {bp:.3f} R {br:.3f} F1 {bf1:.3f}")  # fmt: skip
        result.update({f"{key}_precision": round(p, 4), f"{key}_recall": round(r, 4),
                       f"{key}_f1": round(f1, 4), f"baseline_{key}_f1": round(bf1, 4)})  # fmt: skip
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="catalog products")
    parser.add_argument("--m", type=int, default=100_000, help="candidate pages")
    parser.add_argument("--sample", type=int, default=300, help="baseline products timed")
    parser.add_argument("--data", type=Path, default=SHARED)
    args = parser.parse_args()
    result: dict[str, float] = {"products": args.n, "candidates": args.m}
    result.update(run_scale(args.n, args.m, args.sample))
    result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result.update(run_quality(args.data))
    result["accept_at"] = ACCEPT_AT
    print(json.dumps(result))


if __name__ == "__main__":
    main()
