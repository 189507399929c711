"""Screenshot of the demo's HTML report for the README and the docs (docs/images/report.png).

Usage: .venv/bin/python scripts/report-screenshot.py DEMO_DIR [OUT_PNG]
Run ``repricer demo --dir DEMO_DIR`` first. Uses the system Chromium (headless, offline: the
report loads nothing from the network).
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--disable-background-networking", "--disable-component-update", "--no-first-run"]


def screenshot(report: Path, out: Path, width: int = 1280, height: int = 900) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(report.resolve().as_uri())
            page.wait_for_load_state("load")
            page.screenshot(path=str(out), full_page=False)
        finally:
            browser.close()


def main() -> None:
    demo = Path(sys.argv[1])
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("docs/images/report.png")
    reports = sorted(demo.glob("reports/run-*.html"))
    if not reports:
        sys.exit(f"{demo}: no reports/run-*.html (run `repricer demo --dir {demo}` first)")
    out.parent.mkdir(parents=True, exist_ok=True)
    screenshot(reports[-1], out)
    print(f"wrote {out} from {reports[-1]}")


if __name__ == "__main__":
    main()
