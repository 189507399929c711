"""Extraction benchmark on real saved shop pages, beside extruct in the same run.

Reads the pages and ground truth of ``../shared/pages-real`` (else the vendored copy in
``tests/fixtures/pages_real``), runs ``extract_product`` on every page in this one
process, and scores price and availability the way the published results of that
benchmark do: one prediction per page and field; a value among the listed ones is a true
positive, any other value a false positive (and a false negative when a true value
exists), no prediction where a value exists a false negative.

Ground truth documented as wrong in ``tests/fixtures/pages_real/corrections.json`` is
scored with the corrected value (``price_f1``); ``price_f1_as_published`` scores the
values as published, for comparison with the published figures. extruct reads the same
pages (JSON-LD, microdata, OpenGraph; the first Product's first offer) and is scored
the same way. Last line: one JSON object.

    .venv/bin/python bench/extraction.py [--pages DIR] [--rounds 9] [--show]

Times are per page in this one process, after one untimed pass over every page (the
scoring pass), each page's best of ``--rounds`` runs, for both extractors alike: wall
clock (``median_ms``, ``p90_ms``, ``extruct_median_ms``) and CPU time of the process
(``median_cpu_ms``, ``p90_cpu_ms``, ``extruct_median_cpu_ms``), which a busy shared host
inflates less. The rounds alternate between the two extractors, so a change of load
falls on both.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from spiders.pages import extract_product  # noqa: E402

SHARED = next(
    (p for p in (ROOT.parent / "shared" / "pages-real", ROOT.parents[1] / "shared" / "pages-real")
     if (p / "ground-truth.json").is_file()),
    ROOT / "tests" / "fixtures" / "pages_real",
)  # fmt: skip
VENDORED = ROOT / "tests" / "fixtures" / "pages_real"
AVAILABILITY = {"in_stock": "InStock", "out_of_stock": "OutOfStock"}


@dataclass
class Score:
    """True/false positives and false negatives of one field over all pages."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, predicted: object, truth: list[Any]) -> bool:
        if predicted is None:
            self.fn += bool(truth)
            return False
        if predicted in truth:
            self.tp += 1
            return True
        self.fp += 1
        self.fn += bool(truth)
        return False

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def show(self) -> str:
        return f"F1 {self.f1:.3f} (P {self.precision:.3f}, R {self.recall:.3f})"


@dataclass
class Run:
    price: Score = field(default_factory=Score)
    published: Score = field(default_factory=Score)
    availability: Score = field(default_factory=Score)


def load_pages(folder: Path) -> list[tuple[str, bytes, dict[str, Any]]]:
    truth = json.loads((folder / "ground-truth.json").read_text("utf-8"))
    return [
        (key, gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes()), truth[key])
        for key in sorted(truth)
    ]


def decimals(values: list[str] | None) -> list[Decimal]:
    return [Decimal(v.strip()) for v in values or []]


def as_decimal(value: object) -> Decimal | None:
    try:
        return Decimal(str(value).strip()) if value is not None else None
    except InvalidOperation:
        return None


def extruct_reading(html: bytes, url: str) -> tuple[Decimal | None, str | None]:
    """extruct's price and availability: the first Product's first offer."""
    import extruct  # type: ignore[import-untyped]

    try:
        data = extruct.extract(
            html, base_url=url, syntaxes=["json-ld", "microdata", "opengraph"], uniform=True
        )
    except Exception:  # extruct raises on some real pages; that is a miss, not a crash
        return None, None
    for syntax in ("json-ld", "microdata"):
        for item in _products(data.get(syntax) or []):
            offers = item.get("offers")
            offer = offers[0] if isinstance(offers, list) and offers else offers
            if isinstance(offer, dict):
                price = as_decimal(offer.get("price") or offer.get("lowPrice"))
                stock = str(offer.get("availability") or "").rsplit("/", 1)[-1] or None
                return price, stock
    for item in data.get("opengraph") or []:
        price = as_decimal(item.get("product:price:amount") or item.get("og:price:amount"))
        if price is not None:
            return price, None
    return None, None


def _products(items: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    stack = list(items)
    while stack:
        item = stack.pop(0)
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            kinds = item.get("@type")
            kinds = kinds if isinstance(kinds, list) else [kinds]
            if "Product" in kinds:
                out.append(item)
            stack.extend(v for k, v in item.items() if k == "@graph")
    return out


Reader = Callable[[bytes, str], tuple[Decimal | None, str | None]]


def score(
    pages: list[tuple[str, bytes, dict[str, Any]]],
    corrections: dict[str, dict[str, str]],
    read: Reader,
    show: bool,
) -> Run:
    run = Run()
    for key, html, truth in pages:
        price, stock = read(html, truth["url"])
        published = decimals(truth.get("price"))
        fixed = corrections.get(key, {}).get("price")
        ok = run.price.add(price, [Decimal(fixed)] if fixed else published)
        run.published.add(price, published)
        stock_ok = run.availability.add(stock, truth.get("availability") or [])
        if show:
            mark = "ok " if ok else ("-- " if price is None else "BAD")
            print(f"  {mark} {key[:10]} {truth['url'][8:60]:52} {price} {stock} {stock_ok}")
    return run


def ours(html: bytes, url: str) -> tuple[Decimal | None, str | None]:
    result = extract_product(html, url)
    return result.price, AVAILABILITY.get(result.availability)


def timed(
    pages: list[tuple[str, bytes, dict[str, Any]]], readers: list[Reader], rounds: int
) -> list[tuple[list[float], list[float]]]:
    """Per reader, per-page ms (wall clock, this process's CPU time): each page's
    fastest of ``rounds`` runs (the host is shared; the minimum is the page's own cost).
    Each round runs every reader over every page in turn."""
    times = [([float("inf")] * len(pages), [float("inf")] * len(pages)) for _ in readers]
    for _ in range(rounds):
        for read, (wall, cpu) in zip(readers, times, strict=True):
            for i, (_key, html, truth) in enumerate(pages):
                started, started_cpu = time.perf_counter(), time.process_time()
                read(html, truth["url"])
                cpu[i] = min(cpu[i], (time.process_time() - started_cpu) * 1000)
                wall[i] = min(wall[i], (time.perf_counter() - started) * 1000)
    return times


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, default=SHARED)
    parser.add_argument("--rounds", type=int, default=9, help="timing runs per page")
    parser.add_argument("--show", action="store_true", help="print every page's result")
    args = parser.parse_args()
    pages = load_pages(args.pages)
    corrections = json.loads((VENDORED / "corrections.json").read_text("utf-8"))
    print(f"{len(pages)} pages from {args.pages}", file=sys.stderr)
    mine = score(pages, corrections, ours, args.show)
    baseline = score(pages, corrections, extruct_reading, False)
    (ms, cpu_ms), (base_ms, base_cpu_ms) = timed(pages, [ours, extruct_reading], args.rounds)
    print(f"ours:    price {mine.price.show()}, availability {mine.availability.show()}")
    print(f"         as published: price {mine.published.show()}")
    print(
        f"         {statistics.median(ms):.1f} ms median, {percentile(ms, 0.9):.1f} ms p90 per page"
        f" (CPU {statistics.median(cpu_ms):.1f} / {percentile(cpu_ms, 0.9):.1f} ms)"
    )
    print(f"extruct: price {baseline.price.show()}, availability {baseline.availability.show()}")
    print(f"         as published: price {baseline.published.show()}")
    print(
        f"         {statistics.median(base_ms):.1f} ms median per page"
        f" (CPU {statistics.median(base_cpu_ms):.1f} ms)"
    )
    print(
        json.dumps(
            {
                "pages": len(pages),
                "price_f1": round(mine.price.f1, 3),
                "price_precision": round(mine.price.precision, 3),
                "price_recall": round(mine.price.recall, 3),
                "price_f1_as_published": round(mine.published.f1, 3),
                "availability_f1": round(mine.availability.f1, 3),
                "median_ms": round(statistics.median(ms), 2),
                "p90_ms": round(percentile(ms, 0.9), 2),
                "median_cpu_ms": round(statistics.median(cpu_ms), 2),
                "p90_cpu_ms": round(percentile(cpu_ms, 0.9), 2),
                "extruct_price_f1": round(baseline.price.f1, 3),
                "extruct_price_f1_as_published": round(baseline.published.f1, 3),
                "extruct_availability_f1": round(baseline.availability.f1, 3),
                "extruct_median_ms": round(statistics.median(base_ms), 2),
                "extruct_median_cpu_ms": round(statistics.median(base_cpu_ms), 2),
            }
        )
    )


if __name__ == "__main__":
    main()
