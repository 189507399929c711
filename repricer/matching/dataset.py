"""Read labelled offer pairs in the entity-matching benchmark format.

One pair a line, tab-separated: ``COL title VAL ... COL brand VAL ...`` for each side,
then the label (1 same product, 0 different). Column names of the benchmark sets are
mapped onto the matcher's fields (``name`` -> title, ``manufacturer`` -> brand,
``modelno`` -> model).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_COLUMN = re.compile(r"COL (\S+) VAL ?")
ALIASES = {"name": "title", "manufacturer": "brand", "modelno": "model"}


@dataclass(frozen=True)
class LabelledPairs:
    """Pairs of field mappings and their labels (1 same product, 0 different)."""

    pairs: list[tuple[dict[str, str], dict[str, str]]]
    labels: list[int]


def parse_side(text: str) -> dict[str, str]:
    """``"COL title VAL abc COL price VAL 9.99"`` -> ``{"title": "abc", "price": "9.99"}``."""
    parts = _COLUMN.split(text)
    record: dict[str, str] = {}
    for name, value in zip(parts[1::2], parts[2::2], strict=True):
        record[ALIASES.get(name, name)] = value.strip()
    return record


def read_pairs(path: Path | str) -> LabelledPairs:
    """All pairs of one file; a line that is not three tab-separated parts raises
    ``ValueError`` naming the file and line."""
    pairs: list[tuple[dict[str, str], dict[str, str]]] = []
    labels: list[int] = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 3 or fields[2].strip() not in ("0", "1"):
                raise ValueError(f"{path}:{number}: not 'left<TAB>right<TAB>label'")
            pairs.append((parse_side(fields[0]), parse_side(fields[1])))
            labels.append(int(fields[2]))
    return LabelledPairs(pairs, labels)


def find_benchmark_data(start: Path | None = None) -> Path | None:
    """The labelled pairs folder: ``$REPRICER_MATCHING_DATA``, else ``shared/matching``
    beside the checkout or one level further up; None when absent."""
    import os

    configured = os.environ.get("REPRICER_MATCHING_DATA")
    if configured:
        return Path(configured) if Path(configured).is_dir() else None
    root = start or Path(__file__).resolve().parents[2]
    for base in (root.parent, root.parent.parent):
        folder = base / "shared" / "matching"
        if (folder / "Abt-Buy" / "valid.txt").is_file():
            return folder
    return None
