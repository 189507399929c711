"""``repricer init``: a new working folder with config.toml, rules/ and a migrated database."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from repricer.config import load_settings
from repricer.db.migrate import PROJECT_ROOT, upgrade
from repricer.exceptions import RepricerError

EXAMPLE_CONFIG = PROJECT_ROOT / "config.example.toml"
EXAMPLE_RULES = PROJECT_ROOT / "rules"


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
    if not EXAMPLE_CONFIG.exists():
        raise RepricerError(f"{EXAMPLE_CONFIG}: example config not found (broken installation)")
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "config.toml"
    written = force or not config.exists()
    if written:
        shutil.copyfile(EXAMPLE_CONFIG, config)
    rules_dir = directory / "rules"
    rules_dir.mkdir(exist_ok=True)
    rules = []
    for source in sorted(EXAMPLE_RULES.glob("*.toml")):
        target = rules_dir / source.name
        if force or not target.exists():
            shutil.copyfile(source, target)
        rules.append(target)
    settings = load_settings(config)
    revision = upgrade(settings.database.url)
    return InitResult(directory, config, rules, settings.database.url, revision, written)
