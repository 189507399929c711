"""Pricing: declarative rules (``rules/*.toml``) applied to the whole catalog at once.

``reprice(settings, engine, ...)`` runs and stores a repricing run; ``decide`` is the
pure, vectorised core over in-memory frames; ``load_rules`` reads and validates rules.
"""

from __future__ import annotations

from repricer.pricing.core import decide
from repricer.pricing.engine import RepricingResult, reprice
from repricer.pricing.replay import replay_run
from repricer.pricing.rules import Rule, RuleSet, load_rules

__all__ = ["RepricingResult", "Rule", "RuleSet", "decide", "load_rules", "replay_run", "reprice"]
