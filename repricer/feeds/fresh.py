"""A feed's offers as a sync stages them: only those whose fingerprint is not stored.

:func:`fresh_pieces` reads a plain YML file by its offers' bytes and parses only new
ones; :func:`fresh_rows` fingerprints rows another parser produced. Both count every
offer read in ``index.read`` and leave the stored fingerprints they met in ``index``
(see :class:`repricer.feeds.fingerprints.PrintIndex`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from repricer.feeds.fingerprints import PrintIndex, piece_prints, row_print
from repricer.feeds.parsers import RawRow
from repricer.feeds.parsers.yml_pieces import OfferPieces

BATCH = 5000  # offers parsed (or rows fingerprinted) at a time

# (where the row came from, its raw fields, its fingerprint)
FreshRow = tuple[str | int, dict[str, Any], int]


def fresh_pieces(pieces: OfferPieces, index: PrintIndex) -> Iterator[FreshRow]:
    """The offers of a plain YML file whose fingerprint is not stored, parsed."""
    for block in pieces.blocks():
        prints = piece_prints(block, index.salt)
        fresh = np.flatnonzero(~index.known(prints))
        index.read += len(block)
        for start in range(0, len(fresh), BATCH):
            part = fresh[start : start + BATCH]
            parsed = pieces.parse([block[i] for i in part])
            for (ref, raw), fp in zip(parsed, prints[part].tolist(), strict=True):
                yield ref, raw, fp


def fresh_rows(rows: Iterable[RawRow], index: PrintIndex) -> Iterator[FreshRow]:
    """The parsed rows whose fingerprint is not stored."""
    batch: list[RawRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield from _unknown_rows(batch, index)
            batch = []
    yield from _unknown_rows(batch, index)


def _unknown_rows(batch: list[RawRow], index: PrintIndex) -> Iterator[FreshRow]:
    prints = [row_print(raw, index.salt) for _ref, raw in batch]
    known = index.known(np.array(prints, dtype=np.int64))
    index.read += len(batch)
    for (ref, raw), fp, skip in zip(batch, prints, known.tolist(), strict=True):
        if not skip:
            yield ref, raw, fp
