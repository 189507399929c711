"""Per-offer fingerprints: an offer whose fingerprint is stored was applied as it is.

A fingerprint is a 64-bit keyed hash of one offer as the feed wrote it: the raw bytes
of a YML ``<offer>`` (:mod:`repricer.feeds.parsers.yml_pieces`) or the raw cells of a
table row. The key (:func:`settings_salt`) is derived from everything that decides how
the offer is read (format, encoding, delimiter, sheet, key, column map, currency, the
hold ratio, the code's version), so changing any of them makes every stored fingerprint
stale and the next sync reads every offer again.

``supplier_offers.feed_fp`` holds the fingerprint of the offer last applied *whole* to
the row. It is left NULL, or set back to NULL, whenever the row is not exactly what the
feed said: a held cost move, an item marked missing, a stock-only sync, an accepted
hold, a product whose barcode moved (:func:`forget_linked`). A sync then only parses, checks and stages offers whose fingerprint is not among
the supplier's stored ones (:class:`PrintIndex`); an offer found there is skipped,
because applying it again would change nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from hashlib import blake2b, sha1
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, Table, or_, update

from repricer import __version__
from repricer.config import SupplierSettings
from repricer.db.models import SupplierOffer

FP_VERSION = 1  # bump when parsing or checking an offer changes meaning
_READ_WITH = (
    "format",
    "encoding",
    "delimiter",
    "sheet",
    "key",
    "columns",
    "complete",
    "hold_cost_ratio",
)
_offers = cast(Table, SupplierOffer.__table__)
Prints = NDArray[np.int64]


def settings_salt(supplier: SupplierSettings, currency: str, kind: str) -> bytes:
    """The 32-byte BLAKE2b key of a supplier's fingerprints; ``kind`` names what is
    fingerprinted (``"pieces"``: YML offer bytes, ``"rows"``: parsed cells)."""
    settings = {name: getattr(supplier, name) for name in _READ_WITH}
    text = json.dumps([FP_VERSION, __version__, kind, currency, settings], default=str)
    return blake2b(text.encode(), digest_size=32).digest()


def piece_prints(pieces: Sequence[bytes], salt: bytes) -> Prints:
    """One fingerprint per raw offer: the first 8 bytes of SHA-1 over the salt and the
    offer (SHA-1 runs in hardware here, three times BLAKE2b's speed; this detects
    change, it is no security boundary: a supplier can only fool it about its own feed)."""
    digests = b"".join([sha1(salt + p).digest() for p in pieces])
    table = np.frombuffer(digests, dtype=np.uint8).reshape(-1, 20)[:, :8]
    return np.ascontiguousarray(table).view("<i8").reshape(-1).astype(np.int64)


def row_print(raw: Mapping[str, Any], salt: bytes) -> int:
    """The fingerprint of one parsed row's raw cells."""
    data = repr(list(raw.items())).encode("utf-8", "surrogatepass")
    return int.from_bytes(blake2b(data, digest_size=8, key=salt).digest(), "little", signed=True)


Ids = NDArray[np.int64]


@dataclass(frozen=True)
class StoredOffers:
    """The supplier's stored offers as columns, one entry per row: ``ids``, ``prints``
    (0 where ``printed`` is False), ``available``, ``unmatched`` (no product),
    ``held`` (a cost held for review)."""

    ids: Ids
    prints: Prints
    printed: NDArray[np.bool_]
    available: NDArray[np.bool_]
    unmatched: NDArray[np.bool_]
    held: NDArray[np.bool_]


@dataclass(frozen=True)
class Skipped:
    """What a sync that skipped unchanged offers knows about the stored ones: how many
    offers it skipped (``matched``), how many stored ones are available (``known``),
    the available ones it neither skipped nor will find staged by key (``absent``
    candidates), the skipped ones still without a product (``waiting``), how many
    stored offers there are and how many have a cost held."""

    matched: int
    known: int
    absent: Ids
    waiting: Ids
    stored: int = 0
    held: int = 0


@dataclass
class PrintIndex:
    """The stored fingerprints of a supplier's offers (sorted), and where the feed being
    read repeated them. ``delta`` False: nothing is skipped."""

    salt: bytes
    rows: StoredOffers
    delta: bool = True
    read: int = 0  # offers read so far, skipped ones included
    _found: list[NDArray[np.intp]] = field(default_factory=list)

    def __post_init__(self) -> None:
        prints = self.rows.prints[self.rows.printed] if self.delta else np.empty(0, np.int64)
        self._order = np.argsort(prints, kind="stable")
        self.stored: Prints = prints[self._order]

    def known(self, prints: Prints) -> NDArray[np.bool_]:
        """Which of ``prints`` are stored (those offers are skipped); remembers them."""
        if not len(self.stored):
            return np.zeros(len(prints), dtype=bool)
        at = np.minimum(np.searchsorted(self.stored, prints), len(self.stored) - 1)
        mask: NDArray[np.bool_] = self.stored[at] == prints
        self._found.append(at[mask])
        return mask

    def matched(self) -> int:
        """How many offers were skipped as unchanged (a repeated one counts twice)."""
        return sum(len(found) for found in self._found)

    def _counts(self) -> NDArray[np.intp]:
        found = np.concatenate(self._found) if self._found else np.empty(0, np.intp)
        return np.bincount(found, minlength=len(self.stored))

    def repeats(self) -> bool:
        """Whether an unchanged offer appears more than once in the feed."""
        return bool((self._counts() > 1).any())

    def repeated(self, prints: Prints) -> bool:
        """Whether any of ``prints`` was repeated by the feed."""
        if not len(prints) or not len(self.stored):
            return False
        at = np.minimum(np.searchsorted(self.stored, prints), len(self.stored) - 1)
        return bool(((self.stored[at] == prints) & (self._counts()[at] > 0)).any())

    def skipped(self) -> Skipped:
        """What the skipped offers say about the stored ones (see :class:`Skipped`)."""
        rows = self.rows
        repeated = np.zeros(len(rows.ids), dtype=bool)
        if len(self.stored):
            printed_rows = np.flatnonzero(rows.printed)[self._order]
            repeated[printed_rows[self._counts() > 0]] = True
        return Skipped(
            self.matched(),
            int(rows.available.sum()),
            rows.ids[rows.available & ~repeated],
            rows.ids[repeated & rows.unmatched],
            len(rows.ids),
            int(rows.held.sum()),
        )


# Per row: the fingerprint (0: none) and the id with four flags packed in the low bits,
# so a million rows come back as two integers each.
_STORED_SQL = (
    "SELECT COALESCE(feed_fp, 0), id * 16"
    " + CASE WHEN feed_fp IS NULL THEN 0 ELSE 1 END"
    " + CASE WHEN available THEN 2 ELSE 0 END"
    " + CASE WHEN product_id IS NULL THEN 4 ELSE 0 END"
    " + CASE WHEN held_cost IS NULL THEN 0 ELSE 8 END"
    " FROM {table} WHERE supplier_id = {mark}"
)


def load_index(conn: Connection, supplier_id: int, salt: bytes, *, delta: bool) -> PrintIndex:
    """The supplier's stored offers as columns, read through the driver's cursor: a
    million of them is a few arrays, not a million result rows."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    parts: list[NDArray[np.int64]] = []
    try:
        cursor.execute(_STORED_SQL.format(table=_offers.name, mark=mark), (supplier_id,))
        while batch := cursor.fetchmany(100_000):
            parts.append(np.array(batch, dtype=np.int64).reshape(-1, 2))
    finally:
        cursor.close()
    table = np.concatenate(parts) if parts else np.empty((0, 2), np.int64)
    packed = table[:, 1]
    rows = StoredOffers(
        packed >> 4,
        table[:, 0].copy(),
        (packed & 1) != 0,
        (packed & 2) != 0,
        (packed & 4) != 0,
        (packed & 8) != 0,
    )
    return PrintIndex(salt, rows, delta=delta)


def forget_linked(
    conn: Connection, product_ids: Sequence[int], keys: Sequence[str], now: datetime
) -> None:
    """Have the next sync read again every offer linked to ``product_ids`` or keyed by
    one of ``keys``: their products' barcodes moved (``keys``, old and new), so which
    product such an offer belongs to may differ now. The rows count as written (their
    ``updated_at``), so an identical file is not skipped whole either."""
    for start in range(0, max(len(product_ids), len(keys)), 5000):
        ids, codes = product_ids[start : start + 5000], keys[start : start + 5000]
        conn.execute(
            update(_offers)
            .where(or_(_offers.c.product_id.in_(ids), _offers.c.key.in_(codes)))
            .values(feed_fp=None, updated_at=now)
        )
