"""Retention: ``repricer db prune`` and the scheduled job that bounds the database.

:func:`prune` removes what is older than a cutoff and no longer needed by anything live;
:mod:`repricer.retention.observations` thins competitor observations into daily rows.
"""

from __future__ import annotations

from repricer.retention.prune import PRUNABLE, PruneResult, prune

__all__ = ["PRUNABLE", "PruneResult", "prune"]
