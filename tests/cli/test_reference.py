"""docs/reference/cli.md is the Typer app rendered: it must match the program."""

from __future__ import annotations

from pathlib import Path

import typer

from repricer.cli import app
from repricer.cli.reference import render_reference

PAGE = Path(__file__).parents[2] / "docs" / "reference" / "cli.md"


def test_the_cli_reference_page_matches_the_app() -> None:
    assert PAGE.read_text(encoding="utf-8") == render_reference(app), (
        "docs/reference/cli.md is out of date: run `make docs-reference`"
    )


def test_the_reference_has_a_section_with_the_options_of_every_command() -> None:
    text = render_reference(app)
    assert "## `repricer feeds sync`" in text
    assert "## `repricer db upgrade`" in text
    assert "| `--json` | Print JSON instead of a table. |" in text


def test_a_changed_option_changes_the_reference() -> None:
    extra = typer.Typer()

    @extra.command("probe")
    def probe(limit: int = typer.Option(5, "--limit", help="How many | at most.")) -> None:
        """Probe help."""

    @extra.command("other")
    def other() -> None:
        """Other help."""

    text = render_reference(extra, name="tool")
    assert "## `tool probe`" in text and "Probe help." in text
    assert "How many \\| at most." in text  # pipes escaped inside the table
