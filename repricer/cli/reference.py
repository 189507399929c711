"""The CLI reference page (docs/reference/cli.md), rendered from the Typer app itself.

Every command's usage line, help text and options come from the same objects that parse
the command line, so the page cannot drift from the program; a test compares the file
with a fresh rendering. Regenerate with ``make docs-reference``
(``python -m repricer.cli.reference docs/reference/cli.md``).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

HEADER = """\
# CLI reference

<!-- Generated from the Typer app by `make docs-reference`; do not edit by hand. -->

`repricer [--config PATH] COMMAND`. The config file is `--config`, else `$REPRICER_CONFIG`,
else `./config.toml`. Exit codes: 0 success, 1 a user-facing error (one line naming the file,
key or SKU at fault), 2 a usage error. Commands with tabular output take `--json`.
"""


def render_reference(app: typer.Typer, name: str = "repricer") -> str:
    """Markdown for every command of ``app``: one section each, in the order ``--help``
    lists them, with usage, help text and an options table."""
    root = typer.main.get_command(app)
    parts = [HEADER]
    for path, command, ctx in _walk(root, typer.Context(root, info_name=name)):
        parts.append(_section(path, command, ctx))
    return "\n".join(parts)


def _walk(command: Any, ctx: typer.Context) -> Iterator[tuple[str, Any, typer.Context]]:
    """Depth-first over the leaf commands (groups only hold them)."""
    if getattr(command, "commands", None) is None:
        yield ctx.command_path, command, ctx
        return
    for sub_name in command.list_commands(ctx):
        sub = command.get_command(ctx, sub_name)
        if sub is not None and not sub.hidden:
            yield from _walk(sub, typer.Context(sub, info_name=sub_name, parent=ctx))


def _section(path: str, command: Any, ctx: typer.Context) -> str:
    lines = [f"## `{path}`", ""]
    help_text = inspect.cleandoc(command.help or "")
    if help_text:
        lines += [help_text, ""]
    pieces = " ".join(command.collect_usage_pieces(ctx))
    lines += ["```text", f"{path} {pieces}".rstrip(), "```", ""]
    records = [_option_row(param, ctx) for param in command.get_params(ctx)]
    rows = [row for row in records if row is not None]
    if rows:
        lines += ["| Option | Description |", "| --- | --- |", *rows, ""]
    return "\n".join(lines)


def _option_row(param: Any, ctx: typer.Context) -> str | None:
    record = param.get_help_record(ctx)
    if record is None:
        return None
    names, description = record
    description = " ".join(str(description).split()).replace("|", "\\|")
    return f"| `{names}` | {description} |"


def main(argv: list[str] | None = None) -> None:
    """Write the reference to the path given (default: print it)."""
    from repricer.cli import app

    args = sys.argv[1:] if argv is None else argv
    text = render_reference(app)
    if args:
        Path(args[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
