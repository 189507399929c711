"""The exceptions repricer raises for failures a user must act on.

Parsers of messy input (prices, pages, feed rows) do not raise: they return ``None``
plus a reason. These exceptions are for misuse and for failures that stop a command.
The CLI turns every :class:`RepricerError` into exit code 1 and its one-line message.
"""

from __future__ import annotations

from pathlib import Path


class RepricerError(Exception):
    """Base class; ``str(err)`` is the one-line message shown to the user (one line per
    problem when a file has several: see :meth:`combine`)."""

    @classmethod
    def combine(cls, errors: list[RepricerError]) -> RepricerError:
        """One error reporting all of ``errors`` (of one file), one line each; it keeps
        the first one's attributes (path, key...)."""
        first = errors[0]
        if len(errors) > 1:
            first.args = ("\n".join(str(e) for e in errors),)
        return first


class ConfigError(RepricerError):
    """Raised by ``repricer.config.load_settings`` for a missing or invalid config file,
    an unknown key, a bad value or a secret written into the file.

    ``path`` is the config file, ``key`` the dotted key at fault (``suppliers[0].format``).
    """

    def __init__(self, message: str, *, path: Path | str | None = None, key: str | None = None):
        self.path = Path(path) if path is not None else None
        self.key = key
        where = ": ".join(str(p) for p in (path, key) if p)
        super().__init__(f"{where}: {message}" if where else message)


class RulesError(RepricerError):
    """Raised by ``repricer.pricing.rules`` when a rule file is invalid; names the file,
    the rule and the key."""

    def __init__(
        self, message: str, *, path: Path | str, rule: str | None = None, key: str | None = None
    ):
        self.path = Path(path)
        self.rule = rule
        self.key = key
        parts = [str(path)]
        if rule:
            parts.append(f"rule {rule!r}")
        if key:
            parts.append(key)
        super().__init__(f"{': '.join(parts)}: {message}")


class InputFileError(RepricerError):
    """Raised by importers (catalog, listings, feeds) when a whole file cannot be read:
    missing, unknown format, undecodable, no header. Row-level problems are reported,
    not raised."""

    def __init__(self, message: str, *, path: Path | str, line: int | None = None):
        self.path = Path(path)
        self.line = line
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message}")


class RowsRejectedError(RepricerError):
    """Raised by the CLI layer after an import that kept the good rows but rejected some;
    carries the count so the command exits 1 after reporting them."""

    def __init__(self, rejected: int, path: Path | str):
        self.rejected = rejected
        self.path = Path(path)
        super().__init__(f"{path}: {rejected} row(s) rejected, see above")


class FeedError(RepricerError):
    """Raised by ``repricer.feeds`` when a supplier feed cannot be fetched or is rejected
    by a guard; the previous data is kept. ``supplier`` names the feed."""

    def __init__(self, message: str, *, supplier: str):
        self.supplier = supplier
        super().__init__(f"supplier {supplier!r}: {message}")


class CrawlError(RepricerError):
    """Raised by ``repricer.crawl`` when a crawl process cannot start or fails as a whole."""


class PricingError(RepricerError):
    """Raised by ``repricer.pricing`` when a repricing run cannot be computed (no rules,
    no catalog)."""


class ReviewError(RepricerError):
    """Raised by ``repricer.review`` for an approval that is not allowed (unknown id,
    wrong state)."""


class StorefrontError(RepricerError):
    """Raised by ``repricer.storefront`` connectors when the storefront cannot be reached
    or refuses the credentials; never contains a secret."""


class NotFoundError(RepricerError):
    """Raised when a named thing (run id, SKU, supplier, competitor) does not exist."""


class LeaseHeldError(RepricerError):
    """Raised by ``repricer.lease`` when another live process holds the lease (one
    scheduler, one push per database); names the holder's host, pid and since when."""

    def __init__(self, holder: object):
        from repricer.lease import LeaseHolder

        assert isinstance(holder, LeaseHolder)
        self.holder = holder
        super().__init__(
            f"another {holder.name} is running on this database ({holder.describe()}); "
            f"if that process is gone, its lease lapses at "
            f"{holder.expires_at:%H:%M:%S} UTC and it can be taken over"
        )


class LeaseLostError(RepricerError):
    """Raised by ``repricer.lease.Lease.check`` when this process no longer holds its
    lease (it stalled past the lease's ttl and another process may have taken over)."""

    def __init__(self, name: str):
        self.name = name
        super().__init__(f"lost the {name} lease: another process may have taken over; stopped")


class DatabaseError(RepricerError):
    """Raised by ``repricer.db.ready`` (and the CLI) when the database is missing,
    unreachable or not migrated, or fails during a command; says what to run."""
