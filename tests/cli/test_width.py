"""Every table of the CLI at 80 columns: nothing wider, no header cut, long text cut with "…"
(the full value is in --json), and row blocks when even the headers do not fit."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text
from sqlalchemy import Engine
from typer.testing import CliRunner

from repricer.cli import app, crawl, demo, feeds, review
from repricer.cli._common import console, print_table
from repricer.cli.tables import fit_widths, render_table
from tests.pricing.conftest import RULES, Shop

WIDTH = 80
LONG_TITLE = "Чайник электрический Aqua Supreme 1,7 л с подсветкой и фильтром от накипи"
runner = CliRunner()
# One-line messages around the tables (summaries), not table lines.
MESSAGES = ("run ", "vs run ")


@pytest.fixture(autouse=True)
def _eighty_columns() -> Iterator[None]:
    console.width = WIDTH
    yield
    console._width = None  # back to the terminal's width


def assert_fits(output: str, headers: list[str]) -> None:
    """No table line wider than 80 cells; every header whole; no header cell cut. (Messages
    outside tables stay one line whatever the width, so they can be grepped.)"""
    lines = output.splitlines()
    for line in lines:
        if not line.startswith(MESSAGES):
            assert Text(line).cell_len <= WIDTH, line
    for above, line in itertools.pairwise(lines):
        if line.strip().startswith("──"):  # the rule under a header line
            assert "…" not in above, f"header cut: {above}"
        if "┃" in line:
            assert "…" not in line, f"header cut: {line}"
    for header in headers:
        assert re.search(rf"(?<![\w-]){re.escape(header)}(?![\w-])", output), header


@pytest.fixture
def workspace(engine: Engine, write_config: Callable[[str], Path], tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "default.toml").write_text(RULES, encoding="utf-8")
    config = write_config(
        '[pricing]\nrules_dir = "rules"\nmax_changed_share = "100%"\nmax_median_change = "100%"\n'
        '[[suppliers]]\nname = "supplier-with-a-rather-long-name"\npath = "feeds/x.csv"\n'
        'format = "csv"\n'
        '[[competitors]]\nname = "citilink"\ndomain = "citilink.example"\n'
    )
    shop = Shop(engine, now=datetime.now(UTC))
    shop.priced("KT-100", 108000, {"citilink": 134900}, title=LONG_TITLE, price=129900)
    shop.priced("KT-200-EXTRA-LONG-SKU", 50000, {"citilink": 90000}, title="Утюг Steam Pro")
    shop.priced("BL-300", 50000, {}, price=149900, title="Блендер")
    return config


def _run(config: Path, *args: str) -> str:
    result = runner.invoke(app, ["--config", str(config), *args])
    assert result.exit_code == 0, result.output
    return result.output


COMMANDS: list[tuple[list[str], list[str]]] = [
    (["catalog", "list"], ["sku", "title", "price"]),
    (["reprice"], ["sku", "old_price", "new_price", "change_pct", "status"]),
    (["feeds", "status"], ["supplier", "status", "offers", "due"]),
    (["schedule", "list"], ["job", "every", "next_run", "last_status"]),
    (["history", "KT-100"], ["at", "series", "kind", "price"]),
]


@pytest.mark.parametrize(("args", "headers"), COMMANDS, ids=[" ".join(a) for a, _ in COMMANDS])
def test_command_tables_fit_80_columns(
    workspace: Path, args: list[str], headers: list[str]
) -> None:
    if args[0] == "history":
        _run(workspace, "reprice")
    assert_fits(_run(workspace, *args), headers)


def test_review_list_puts_explanations_under_the_table(workspace: Path) -> None:
    _run(workspace, "reprice", "--apply")
    output = _run(workspace, "review", "list", "--status", "all")
    table = [c for c in review.LIST_COLUMNS if c != "explanation"]
    assert_fits(output.split("\nKT-")[0], table)  # the table, before the notes
    rows = json.loads(_run(workspace, "review", "list", "--status", "all", "--json"))
    assert any(len(row["explanation"]) > WIDTH for row in rows)
    flat = " ".join(output.split())
    for row in rows:  # each explanation whole under the table (wrapped), keyed by SKU
        assert " ".join(f"{row['sku']}: {row['explanation']}".split()) in flat


ROWS_OF: dict[str, tuple[list[str], dict[str, object]]] = {
    "crawl": (
        list(crawl.COLUMNS),
        {
            "competitor": "competitor-with-a-long-name",
            "pages": 12000,
            "ok": 11000,
            "no_price": 500,
            "error": 400,
            "anomaly": 50,
            "mismatch": 50,
            "healthy": True,
        },
    ),
    "feeds sync": (
        list(feeds.SYNC_COLUMNS[:-1]),
        {
            "supplier": "supplier-with-a-long-name",
            "status": "rejected",
            "seen": 1000000,
            "changed": 10000,
            "missing": 0,
            "skipped": 12,
            "unmapped": 1000000,
            "duration_s": 17.9,
        },
    ),
    "demo": (
        ["sku", "title", "old_price", "new_price", "status"],
        {
            "sku": "DEMO-001",
            "title": LONG_TITLE,
            "old_price": "1 289 ₽",
            "new_price": "1 339 ₽",
            "status": "unchanged",
        },
    ),
    "push problems": (
        ["sku", "result", "reason"],
        {
            "sku": "KT-100",
            "result": "held",
            "reason": "below the floor 1 344 ₽ of rule "
            "'default' (cost 1 200 ₽ + 12%), current effective cost from supplier acme",
        },
    ),
}


@pytest.mark.parametrize("name", list(ROWS_OF))
def test_tables_printed_without_a_database_fit(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    columns, row = ROWS_OF[name]
    print_table([row, row], columns, title=name)
    assert_fits(capsys.readouterr().out, columns)
    assert demo is not None


def test_long_text_is_cut_and_short_values_are_whole() -> None:
    columns = ["sku", "price", "title"]
    rows = [{"sku": "KT-100", "price": "1 339 ₽", "title": "x" * 200}]
    out = _render(rows, columns)
    assert "1 339 ₽" in out and "KT-100" in out and "x…" in out
    assert_fits(out, columns)


def test_a_column_too_long_to_cut_usefully_goes_under_the_table() -> None:
    columns = ["sku", "a_rather_long_header", "another_long_header", "third_long_header", "text"]
    rows = [{"sku": "KT-100", "text": "word " * 60, **dict.fromkeys(columns[1:4], "v")}]
    out = _render(rows, columns)
    assert_fits(out, columns[:4])
    assert "KT-100: word word" in out and "…" not in out
    assert " ".join(out.split()).count("word") == 60  # all of it, wrapped


def test_too_many_columns_become_row_blocks() -> None:
    columns = [f"column_{i}" for i in range(12)]
    rows = [{c: f"value {i}" for i, c in enumerate(columns)}]
    assert fit_widths(columns, [[str(rows[0][c]) for c in columns]], WIDTH) is None
    out = _render(rows, columns)
    assert_fits(out, columns)
    assert all(f"value {i}" in out for i in range(12))  # nothing cut: the block wraps


def test_a_table_that_fits_is_left_alone() -> None:
    rows = [{"sku": "A", "price": 5}]
    assert fit_widths(["sku", "price"], [["A", "5"]], WIDTH) == [3, 5]
    assert "sku  price" in _render(rows, ["sku", "price"])


def test_user_text_is_never_markup() -> None:
    out = _render([{"title": "[red]Kettle[/red] [bold]"}], ["title"])
    assert "[red]Kettle[/red] [bold]" in out


def _render(rows: list[dict[str, object]], columns: list[str]) -> str:
    target = Console(width=WIDTH, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    target.print(render_table(rows, columns, WIDTH))
    return target.export_text()
