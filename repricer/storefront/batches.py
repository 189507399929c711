"""The push loop the price push and the stock push share: claim, send, record, tally.

:func:`push_batches` walks the items in batches of the connector's limit. Before each
batch it checks the push lease (a push that lost it to another process stops, saying
so); then it **claims** the batch (the price push moves ``approved -> pushing``, so a
change withdrawn since it was selected is never sent), **sends** it, and **records** the
storefront's answer item by item in one transaction. A storefront that fails a whole
batch (:class:`StorefrontError`, after the connector's retries) stops the push:
``give_up`` records the batch so the next push sends it again, and ``summary.error``
says why; batches not reached stay as they were and are sent next time. Nothing is
lost: a crash between claim and record leaves what the claim wrote, which the next push
recovers. The crash points are ``<kind>:claimed`` and ``<kind>:sent``
(:mod:`repricer.faults`).

:func:`read_back` is the verification step both pushes share: the storefront's view of
each pushed item, counting those it does not show (or a read-back that fails) as
unverified.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from repricer.exceptions import LeaseLostError, StorefrontError
from repricer.faults import fault_point
from repricer.lease import Lease
from repricer.storefront.base import PushResult

SAMPLE = 20  # how many failures (and mismatches) a summary lists
Progress = Callable[[int, int], None]
T = TypeVar("T")
S = TypeVar("S")
Failure = tuple[str, str]  # (sku, reason)


@dataclass
class PushTally:
    """What every push reports. ``failures`` lists (sku, reason), at most 20."""

    connector: str
    dry_run: bool = False
    candidates: int = 0
    pushed: int = 0
    failed: int = 0
    confirmed: int = 0
    unverified: int = 0
    failures: list[Failure] = field(default_factory=list)
    error: str | None = None
    duration_s: float = 0.0

    def note_failures(self, failures: Sequence[Failure]) -> None:
        """Count failed items, keeping the first :data:`SAMPLE` of them."""
        self.failed += len(failures)
        self.failures += failures[: SAMPLE - len(self.failures)]

    def as_dict(self) -> dict[str, object]:
        """The counts (lists left out), for ``--json``."""
        return {k: v for k, v in self.__dict__.items() if not isinstance(v, list)}


class PushSteps(Protocol[T]):
    """What one kind of push does at each step of :func:`push_batches`."""

    kind: str  # the crash points' prefix: push | stock-push

    def claim(self, chunk: list[T]) -> list[T]:
        """The items of ``chunk`` this push may send (claimed in their own transaction)."""
        ...

    def send(self, batch: list[T]) -> list[PushResult]:
        """Send a claimed batch; raise StorefrontError when the storefront fails it whole."""
        ...

    def record(self, batch: list[T], results: list[PushResult]) -> tuple[list[T], list[Failure]]:
        """Record the answer in one transaction: (accepted items, failures)."""
        ...

    def give_up(self, batch: list[T], error: str) -> list[Failure]:
        """Record a batch the storefront failed whole, for the next push to send again."""
        ...


def push_batches(
    steps: PushSteps[T],
    items: list[T],
    max_batch: int,
    summary: PushTally,
    lease: Lease,
    progress: Progress | None = None,
) -> list[T]:
    """Push ``items`` batch by batch (see the module docstring); returns those accepted."""
    pushed: list[T] = []
    for start in range(0, len(items), max_batch):
        try:
            lease.check()
        except LeaseLostError as exc:
            summary.error = str(exc)
            break
        chunk = items[start : start + max_batch]
        batch = steps.claim(chunk)
        fault_point(f"{steps.kind}:claimed")
        try:
            results = steps.send(batch) if batch else []
        except StorefrontError as exc:
            summary.error = str(exc)
            summary.note_failures(steps.give_up(batch, str(exc)))
            break
        fault_point(f"{steps.kind}:sent")
        accepted, failures = steps.record(batch, results)
        pushed += accepted
        summary.pushed += len(accepted)
        summary.note_failures(failures)
        if progress:
            progress(start + len(chunk), len(items))
    return pushed


def read_back(
    pushed: list[T],
    sku: Callable[[T], str],
    fetch: Callable[[list[str]], Mapping[str, S]],
    summary: PushTally,
) -> list[tuple[T, S]]:
    """(item, what the storefront shows) for each pushed item ``fetch`` returned; the
    others, or all when the read-back fails (``summary.error`` then says why), are
    counted unverified."""
    if not pushed:
        return []
    try:
        seen = fetch([sku(i) for i in pushed])
    except StorefrontError as exc:
        summary.unverified += len(pushed)
        summary.error = summary.error or f"read-back failed: {exc}"
        return []
    shown = [(item, seen.get(sku(item))) for item in pushed]
    summary.unverified += sum(s is None for _, s in shown)
    return [(item, s) for item, s in shown if s is not None]
