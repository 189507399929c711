from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from repricer.exceptions import RulesError
from repricer.pricing.rule_values import Adjust
from repricer.pricing.rules import Match, load_rules, parse_rules

PROJECT_RULES = Path(__file__).parents[2] / "repricer" / "starter" / "rules"


def test_natural_amounts_and_percentages() -> None:
    [rule] = parse_rules(
        """
        [defaults]
        min_margin = "12%"
        fixed_fee = "50 RUB"
        ceiling = "1 299,90 ₽"
        max_change = 0.15
        cooldown = "6h"
        [[rule]]
        name = "r"
        beat_by = 30
        adjust = "-2%"
        """,
        Path("t.toml"),
    )
    assert rule.min_margin == 120_000 and rule.max_change == 150_000
    assert rule.fixed_fee == Decimal(50) and rule.ceiling == Decimal("1299.90")
    assert rule.beat_by == Adjust(amount=Decimal(30)) and rule.adjust == Adjust(share=-20_000)
    assert rule.cooldown == 6 * 3600


def test_rule_overrides_defaults_and_off_values() -> None:
    first, second = parse_rules(
        """
        [defaults]
        max_change = "10%"
        [[rule]]
        name = "a"
        max_change = "none"
        [[rule]]
        name = "b"
        """,
        Path("t.toml"),
    )
    assert first.max_change is None and second.max_change == 100_000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[defaults]\nmin_margin = "lots"', "t.toml: defaults.min_margin: not a percentage"),
        ("[defaults]\nbogus = 1", "t.toml: defaults.bogus: unknown key"),
        (
            '[[rule]]\nname = "x"\nstrategy = "cheapest"',
            "t.toml: rule 'x': strategy: Input should be",
        ),
        (
            '[[rule]]\nname = "x"\nbeat_by = "1 XYZW"',
            "t.toml: rule 'x': beat_by: not a percentage or amount",
        ),
        (
            '[[rule]]\nname = "x"\nstrategy = "follow"',
            "t.toml: rule 'x': competitor: strategy follow needs",
        ),
        (
            '[[rule]]\nname = "x"\nrounding = "ends_in_7"',
            "t.toml: rule 'x': rounding: not a rounding",
        ),
        (
            '[[rule]]\nname = "x"\nmatch = { colour = "red" }',
            "t.toml: rule 'x': match.colour: unknown key",
        ),
        ('[[rule]]\nstrategy = "keep"', "t.toml: rule '#1': name: Field required"),
        (
            '[[rule]]\nname = "x"\n[[rule]]\nname = "x"',
            "t.toml: rule 'x': name: duplicate rule name",
        ),
        ("[defaults\n", "t.toml: not valid TOML"),
        ("[extra]\na = 1", "t.toml: extra: unknown table"),
        (
            '[[rule]]\nname = "x"\nmin_margin = "-5%"',
            "t.toml: rule 'x': min_margin: not a percentage >= 0",
        ),
        ('[[rule]]\nname = "x"\nrank = 0', "t.toml: rule 'x': rank: Input should be greater"),
    ],
    ids=[
        "bad-share",
        "unknown-default",
        "unknown-strategy",
        "bad-currency",
        "follow-without-competitor",
        "bad-rounding",
        "bad-match-key",
        "no-name",
        "duplicate",
        "bad-toml",
        "unknown-table",
        "negative-margin",
        "rank-zero",
    ],
)
def test_errors_name_file_rule_and_key(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / "t.toml").write_text(text, encoding="utf-8")
    with pytest.raises(RulesError) as info:
        load_rules(tmp_path)
    assert str(info.value).startswith(f"{tmp_path}/{expected}"), str(info.value)


def test_missing_or_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="no rule files"):
        load_rules(tmp_path / "nowhere")
    (tmp_path / "a.toml").write_text("[defaults]\nmin_margin = '5%'\n", encoding="utf-8")
    with pytest.raises(RulesError, match=r"no \[\[rule\]\] entries"):
        load_rules(tmp_path)


def test_files_read_in_name_order_and_hashed(tmp_path: Path) -> None:
    (tmp_path / "b.toml").write_text('[[rule]]\nname = "second"\n', encoding="utf-8")
    (tmp_path / "a.toml").write_text(
        '[[rule]]\nname = "first"\nstrategy = "keep"\n', encoding="utf-8"
    )
    ruleset = load_rules(tmp_path)
    assert [r.name for r in ruleset.rules] == ["first", "second"]
    assert len(ruleset.digest) == 64 and set(ruleset.texts) == {"a.toml", "b.toml"}


@pytest.mark.parametrize(
    "folder", [PROJECT_RULES, PROJECT_RULES / "examples"], ids=["default", "examples"]
)
def test_shipped_rule_files_are_valid(folder: Path) -> None:
    ruleset = load_rules(folder)
    assert ruleset.rules[-1].match == Match()  # the last rule takes every product left
