"""Pricing rule files (``rules/*.toml``): load and validate.

A file has a ``[defaults]`` table and ordered ``[[rule]]`` entries. Every key of
``[defaults]`` may be overridden in a rule; the first rule whose ``match`` fits a
product decides its price. Files are read in name order and their rules concatenated.
Percentages are written ``"12%"`` or ``0.12``; amounts ``"50 RUB"``, ``"50"`` or ``50``
(major units). Any problem raises :class:`RulesError` naming the file, rule and key.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from repricer.exceptions import RulesError
from repricer.pricing.rule_values import (
    DEN,
    Adjust,
    parse_adjust,
    parse_amount_value,
    parse_optional,
    parse_rounding,
    parse_seconds,
    parse_share,
)
from repricer.validation_messages import all_errors

Share = Annotated[int, BeforeValidator(parse_share)]  # fraction x DEN
OptShare = Annotated[int | None, BeforeValidator(parse_optional(parse_share))]
Amount = Annotated[Decimal, BeforeValidator(parse_amount_value)]
OptAmount = Annotated[Decimal | None, BeforeValidator(parse_optional(parse_amount_value))]
Seconds = Annotated[int, BeforeValidator(parse_seconds)]
OptSeconds = Annotated[int | None, BeforeValidator(parse_optional(parse_seconds))]
AdjustValue = Annotated[Adjust, BeforeValidator(parse_adjust)]
OptAdjust = Annotated[Adjust | None, BeforeValidator(parse_optional(parse_adjust))]
Rounding = Annotated[str, BeforeValidator(parse_rounding)]
Patterns = Annotated[list[str], BeforeValidator(lambda v: [v] if isinstance(v, str) else v)]

Strategy = Literal[
    "beat_lowest",
    "match_lowest",
    "match_median",
    "match_average",
    "position",
    "follow",
    "cost_plus",
    "keep",
]
STRATEGIES: tuple[str, ...] = get_args(Strategy)


class Policy(BaseModel):
    """The keys of ``[defaults]``; each may be overridden in a rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_margin: Share = 0
    fixed_fee: Amount = Decimal(0)
    max_markup: OptShare = None
    ceiling: OptAmount = None
    max_change: OptShare = None
    max_change_action: Literal["clamp", "approve"] = "clamp"
    rounding: Rounding = "none"
    min_delta: OptAdjust = None
    cooldown: OptSeconds = None
    stale_after: Seconds = 48 * 3600
    no_competitors: Literal["keep", "cost_plus"] = "keep"
    all_out_of_stock: Literal["ceiling", "keep", "cost_plus"] = "keep"
    we_out_of_stock: Literal["skip", "keep"] = "skip"
    raise_back: OptShare = None
    markup: OptShare = None
    beat_by: AdjustValue = Adjust(share=DEN // 100, amount=Decimal(0))
    rank: int = Field(1, ge=1)
    competitor: str | None = None
    adjust: AdjustValue = Adjust(share=0, amount=Decimal(0))
    competitors: list[str] | None = None
    include_out_of_stock: bool = False


class Match(BaseModel):
    """Which products a rule applies to; each key is a glob or a list of globs
    (case-insensitive). Every given key must match; an empty match takes all."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: Patterns | None = None
    category: Patterns | None = None
    brand: Patterns | None = None
    tag: Patterns | None = None


class Rule(Policy):
    """One ``[[rule]]``: a name, a match scope, a strategy and overrides of the defaults."""

    name: str = Field(min_length=1)
    match: Match = Match()
    strategy: Strategy = "beat_lowest"


@dataclass(frozen=True)
class RuleSet:
    """The rules of a folder in order, where each came from, and a hash of the texts."""

    rules: list[Rule]
    sources: list[Path]
    texts: dict[str, str]
    digest: str


def load_rules(rules_dir: Path) -> RuleSet:
    """Read ``rules_dir/*.toml`` in name order; raise RulesError if none or any is invalid."""
    files = sorted(rules_dir.glob("*.toml")) if rules_dir.is_dir() else []
    if not files:
        raise RulesError("no rule files (*.toml) found", path=rules_dir)
    rules: list[Rule] = []
    sources: list[Path] = []
    texts: dict[str, str] = {}
    for path in files:
        text = path.read_text(encoding="utf-8")
        texts[path.name] = text
        for rule in parse_rules(text, path):
            if any(r.name == rule.name for r in rules):
                raise RulesError("duplicate rule name", path=path, rule=rule.name, key="name")
            rules.append(rule)
            sources.append(path)
    if not rules:
        raise RulesError("no [[rule]] entries", path=rules_dir)
    digest = hashlib.sha256("\0".join(f"{k}\0{v}" for k, v in texts.items()).encode()).hexdigest()
    return RuleSet(rules, sources, texts, digest)


def parse_rules(text: str, path: Path) -> list[Rule]:
    """Validate one file's text; ``path`` is only used in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"not valid TOML: {exc}", path=path) from None
    unknown = sorted(set(data) - {"defaults", "rule"})
    if unknown:
        raise RulesError("unknown table (use [defaults] and [[rule]])", path=path, key=unknown[0])
    defaults = data.get("defaults", {})
    entries = data.get("rule", [])
    if not isinstance(defaults, dict) or not isinstance(entries, list):
        raise RulesError("[defaults] must be a table and [[rule]] an array", path=path)
    errors: list[RulesError] = []
    try:
        errors += _policy_problems(Policy(**defaults), path, None, "defaults.")
    except ValidationError as exc:
        errors += _rules_errors(exc, path, "defaults")
        bad = {loc[0] for loc, _ in all_errors(exc) if loc}
        defaults = {k: v for k, v in defaults.items() if k not in bad}
    rules: list[Rule] = []
    for index, entry in enumerate(entries):
        rule = _parse_rule(entry, index, defaults, path, errors)
        if rule is not None and any(r.name == rule.name for r in rules):
            errors.append(RulesError("duplicate rule name", path=path, rule=rule.name, key="name"))
        elif rule is not None:
            rules.append(rule)
    if errors:  # every problem of the file at once, one line each
        raise RulesError.combine(list(errors))
    return rules


def _parse_rule(
    entry: Any, index: int, defaults: dict[str, Any], path: Path, errors: list[RulesError]
) -> Rule | None:
    """The rule, or None with its problems added to ``errors``."""
    label = f"#{index + 1}"
    if not isinstance(entry, dict):
        errors.append(RulesError("a [[rule]] must be a table", path=path, rule=label))
        return None
    name = entry.get("name")
    label = name if isinstance(name, str) and name else label
    try:
        rule = Rule(**{**defaults, **entry})
    except ValidationError as exc:
        errors += _rules_errors(exc, path, label)
        return None
    problems = _policy_problems(rule, path, label)
    if rule.strategy == "follow" and not rule.competitor:
        problems.append(
            RulesError(
                "strategy follow needs competitor = <name>", path=path, rule=label, key="competitor"
            )
        )
    errors += problems
    return None if problems else rule


def _policy_problems(
    policy: Policy, path: Path, rule: str | None, prefix: str = ""
) -> list[RulesError]:
    """Checks across keys, and signs that a single key cannot see."""
    problems = []
    if policy.max_markup is not None and policy.min_margin > policy.max_markup:
        problems.append(
            RulesError(
                f"min_margin {_pct(policy.min_margin)} is above max_markup "
                f"{_pct(policy.max_markup)}: no price could satisfy both",
                path=path,
                rule=rule,
                key=f"{prefix}min_margin",
            )
        )
    if policy.beat_by.share < 0 or policy.beat_by.amount < 0:
        problems.append(
            RulesError(
                "must not be negative (beat_by is how much below the competitor to go)",
                path=path,
                rule=rule,
                key=f"{prefix}beat_by",
            )
        )
    return problems


def _pct(share: int) -> str:
    return f"{(Decimal(share) * 100 / DEN).normalize():f}%"


def _rules_errors(exc: ValidationError, path: Path, rule: str) -> list[RulesError]:
    errors = []
    for loc, message in all_errors(exc):
        key = ".".join(str(p) for p in loc) or None
        where = None if rule == "defaults" else rule
        key = f"defaults.{key}" if rule == "defaults" and key else key
        errors.append(RulesError(message, path=path, rule=where, key=key))
    return errors
