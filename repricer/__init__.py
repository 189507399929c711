"""repricer: competitor price monitoring and repricing engine for online shops."""

from __future__ import annotations

__version__ = "0.1.0"
