"""``repricer init``: a new working folder with config.toml, rules/ and a migrated database."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from repricer.config import load_settings
from repricer.db.migrate import upgrade
from repricer.exceptions import RepricerError

# Shipped inside the package (repricer/starter/), so an installed wheel can start a workspace.
STARTER = files("repricer") / "starter"
EXAMPLE_CONFIG = STARTER / "config.example.toml"
EXAMPLE_RULES = STARTER / "rules"


@dataclass(frozen=True)
class InitResult:
    directory: Path
    config: Path
    rules: list[Path]
    database_url: str
    revision: str | None
    config_written: bool


def init_workspace(directory: Path, *, force: bool = False) -> InitResult:
    """Create ``directory`` with config.toml (from config.example.toml), the shipped rule
    files and a database migrated to the latest schema.

    An existing config.toml or rule file is kept unless ``force``; the database is
    always migrated, so running ``init`` twice is safe.
    """
    if not EXAMPLE_CONFIG.is_file():
        raise RepricerError(f"{EXAMPLE_CONFIG}: example config not found (broken installation)")
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "config.toml"
    written = force or not config.exists()
    if written:
        config.write_bytes(EXAMPLE_CONFIG.read_bytes())
    rules = _copy_rules(EXAMPLE_RULES, directory / "rules", force=force)
    _copy_rules(EXAMPLE_RULES / "examples", directory / "rules" / "examples", force=force)
    settings = load_settings(config)
    revision = upgrade(settings.database.url)
    return InitResult(directory, config, rules, settings.database.url, revision, written)


def _copy_rules(source: Traversable, target: Path, *, force: bool) -> list[Path]:
    """Copy the shipped ``*.toml`` files of ``source`` into ``target``; keeps existing ones
    unless ``force``. Returns the target paths in name order."""
    target.mkdir(exist_ok=True)
    copied = []
    shipped = [entry for entry in source.iterdir() if entry.name.endswith(".toml")]
    for entry in sorted(shipped, key=lambda entry: entry.name):
        path = target / entry.name
        if force or not path.exists():
            path.write_bytes(entry.read_bytes())
        copied.append(path)
    return copied
