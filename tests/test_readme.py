"""The README is the first screen: short, and everything it points at exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"


def test_the_readme_fits_on_a_first_screen() -> None:
    assert README.stat().st_size <= 10 * 1024


def test_every_local_link_and_image_of_the_readme_exists() -> None:
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README.read_text(encoding="utf-8"))
    local = [t for t in targets if not t.startswith(("http://", "https://"))]
    assert "docs/images/report.png" in local
    assert [t for t in local if not (ROOT / t).exists()] == []
