"""Per-offer fingerprints: an offer whose fingerprint is stored was applied as it is.

A fingerprint is a 64-bit keyed BLAKE2b of one offer as the feed wrote it: the raw bytes
of a YML ``<offer>`` (:mod:`repricer.feeds.parsers.yml_pieces`) or the raw cells of a
table row. The key (:func:`settings_salt`) is derived from everything that decides how
the offer is read (format, encoding, delimiter, sheet, key, column map, currency, the
hold ratio, the code's version), so changing any of them makes every stored fingerprint
stale and the next sync reads every offer again.

``supplier_offers.feed_fp`` holds the fingerprint of the offer last applied *whole* to
the row. It is left NULL, or set back to NULL, whenever the row is not exactly what the
feed said: a held cost move, an item marked missing, a stock-only sync, an accepted
hold. A sync then only parses, checks and stages offers whose fingerprint is not among
the supplier's stored ones (:class:`PrintIndex`); an offer found there is skipped,
because applying it again would change nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from hashlib import blake2b
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, Table, select

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
    """One fingerprint per raw offer."""
    digests = b"".join([blake2b(p, digest_size=8, key=salt).digest() for p in pieces])
    return np.frombuffer(digests, dtype="<i8").astype(np.int64)


def row_print(raw: Mapping[str, Any], salt: bytes) -> int:
    """The fingerprint of one parsed row's raw cells."""
    data = repr(list(raw.items())).encode("utf-8", "surrogatepass")
    return int.from_bytes(blake2b(data, digest_size=8, key=salt).digest(), "little", signed=True)


@dataclass
class PrintIndex:
    """The stored fingerprints of a supplier's offers (sorted), and those of the feed
    being read that were found among them. ``delta`` False: nothing is skipped."""

    salt: bytes
    stored: Prints
    delta: bool = True
    read: int = 0  # offers read so far, skipped ones included
    _matched: list[Prints] = field(default_factory=list)

    def known(self, prints: Prints) -> NDArray[np.bool_]:
        """Which of ``prints`` are stored (those offers are skipped); remembers them."""
        if not self.delta or not len(self.stored):
            return np.zeros(len(prints), dtype=bool)
        at = np.minimum(np.searchsorted(self.stored, prints), len(self.stored) - 1)
        mask: NDArray[np.bool_] = self.stored[at] == prints
        self._matched.append(prints[mask])
        return mask

    def matched(self) -> Prints:
        """Every fingerprint found so far (a repeated offer appears twice)."""
        return np.concatenate(self._matched) if self._matched else np.empty(0, np.int64)

    def stale(self) -> Prints:
        """Stored fingerprints the feed did not repeat: changed or absent offers."""
        return np.setdiff1d(self.stored, self.matched(), assume_unique=False)

    def repeats(self) -> bool:
        """Whether an unchanged offer appears more than once in the feed."""
        matched = self.matched()
        return len(np.unique(matched)) != len(matched)


def load_index(conn: Connection, supplier_id: int, salt: bytes, *, delta: bool) -> PrintIndex:
    """The supplier's stored fingerprints (none when not ``delta``)."""
    if not delta:
        return PrintIndex(salt, np.empty(0, np.int64), delta=False)
    rows = conn.execute(
        select(_offers.c.feed_fp).where(
            _offers.c.supplier_id == supplier_id, _offers.c.feed_fp.is_not(None)
        )
    ).scalars()
    stored = np.fromiter(rows, dtype=np.int64)
    stored.sort()
    return PrintIndex(salt, stored)
