"""Config and rule files: every problem of a file reported at once, one line each
(``file: key: reason``); intervals, margins and adjustments that cannot work are refused."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repricer.cli import app
from repricer.config import load_settings
from repricer.exceptions import ConfigError, PricingError, RulesError
from repricer.pricing.params import rule_table
from repricer.pricing.rules import Rule, load_rules

BAD_CONFIG = """
[[suppliers]]
name = "a"
path = "a.csv"
format = "csv"
every = "0s"

[[suppliers]]
name = "b"
path = "b.csv"
format = "xml"
timeout = "0s"

[[competitors]]
name = "c"
domain = "c.example"
every = "10s"
colour = "red"
"""


def test_all_config_errors_at_once_one_line_each(write_config: Callable[[str], Path]) -> None:
    path = write_config(BAD_CONFIG)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    lines = str(info.value).splitlines()
    assert all(line.startswith(f"{path}: ") for line in lines), lines
    keys = [line.removeprefix(f"{path}: ").split(": ")[0] for line in lines]
    assert keys == [
        "suppliers[0].every",
        "suppliers[1].format",
        "suppliers[1].timeout",
        "competitors[0].every",
        "competitors[0].colour",
    ]
    assert "must be at least 60s" in lines[0]


def test_cli_prints_every_config_error(write_config: Callable[[str], Path]) -> None:
    path = write_config(BAD_CONFIG)
    result = CliRunner().invoke(app, ["--config", str(path), "feeds", "status"])
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 5, result.output


BAD_RULES = """
[defaults]
min_margin = "30%"
max_markup = "20%"
beat_by = "-1%"

[[rule]]
name = "a"
rounding = "ends_in_7"
strategy = "nope"

[[rule]]
name = "b"
min_margin = "10%"
beat_by = "-50 RUB"

[[rule]]
name = "c"
fixed_fee = "5000000000 RUB"
"""


def test_all_rule_errors_at_once_one_line_each(tmp_path: Path) -> None:
    (tmp_path / "r.toml").write_text(BAD_RULES, encoding="utf-8")
    with pytest.raises(RulesError) as info:
        load_rules(tmp_path)
    lines = str(info.value).splitlines()
    prefix = f"{tmp_path / 'r.toml'}: "
    assert all(line.startswith(prefix) for line in lines), lines
    where = [line.removeprefix(prefix) for line in lines]
    expected = [
        "defaults.min_margin: min_margin 30% is above max_markup 20%",
        "defaults.beat_by: must not be negative",
        "rule 'a': rounding: not a rounding",
        "rule 'a': strategy: ",
        "rule 'b': beat_by: must not be negative",
        "rule 'c': fixed_fee: amount 5000000000 is above the limit",
    ]
    assert len(where) == len(expected), lines
    for line, start in zip(where, expected, strict=True):
        assert line.startswith(start), (line, start)
    assert "above the limit" in lines[-1]


def test_min_margin_equal_to_max_markup_and_zero_beat_by_are_fine(tmp_path: Path) -> None:
    (tmp_path / "r.toml").write_text(
        '[[rule]]\nname = "a"\nmin_margin = "20%"\nmax_markup = "20%"\nbeat_by = 0\n'
    )
    (rule,) = load_rules(tmp_path).rules
    assert rule.min_margin == rule.max_markup


def test_fee_with_more_decimals_than_the_currency_is_a_clear_error() -> None:
    rule = Rule(name="fee", fixed_fee=Decimal("0.001"))
    with pytest.raises(PricingError, match=r"rule 'fee': amount 0.001 has more than 2 decimal"):
        rule_table([rule], [], 2)


def test_huge_or_ambiguous_catalog_price_is_a_row_error_not_a_traceback(
    write_config: Callable[[str], Path], tmp_path: Path, engine: object
) -> None:
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(
        "sku;price;stock\nOK-1;1299;1\nBIG-1;4600000000000;1\nODD-1;10.125;1\nMANY-1;1;99999999999\n",
        encoding="utf-8",
    )
    config = write_config("")
    result = CliRunner().invoke(app, ["--config", str(config), "catalog", "import", str(catalog)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "BIG-1" in result.output and "above the limit" in result.output
    assert "MANY-1" in result.output and "stock" in result.output
    assert "ODD-1" in result.output and "ambiguous" in result.output
    assert "Traceback" not in result.output
