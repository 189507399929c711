"""Package the spiders project as a Scrapy egg, the way Scrapyd expects one.

The egg holds the ``spiders`` package as installed here and Scrapy's entry point
(``[scrapy] settings = spiders.settings``), so a node runs exactly the spider code of
the machine that dispatches. The rest of repricer (models, settings, extraction) comes
from the node's own installation of the same repricer version; the spider checks that
the versions agree before it crawls.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

from repricer import __version__
from repricer.crawl import SCRAPY_SETTINGS_MODULE

_PACKAGE = "spiders"
_FIXED_TIME = (2020, 1, 1, 0, 0, 0)  # a stable zip for the same sources


@dataclass(frozen=True)
class Egg:
    """``version`` is the repricer version plus a digest of the sources (only letters,
    digits, ``_`` and ``-``, which Scrapyd keeps as they are)."""

    version: str
    data: bytes


def build_egg() -> Egg:
    files = sorted(_sources(resources.files(_PACKAGE), _PACKAGE))
    digest = hashlib.sha256()
    for name, content in files:
        digest.update(name.encode() + b"\0" + content)
    version = f"{__version__.replace('.', '_')}-{digest.hexdigest()[:12]}"
    metadata = {
        "EGG-INFO/PKG-INFO": f"Metadata-Version: 1.1\nName: repricer-spiders\nVersion: {version}\n",
        "EGG-INFO/entry_points.txt": f"[scrapy]\nsettings = {SCRAPY_SETTINGS_MODULE}\n",
        "EGG-INFO/top_level.txt": f"{_PACKAGE}\n",
        "EGG-INFO/zip-safe": "\n",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as egg:
        for name, content in [*files, *((k, v.encode()) for k, v in metadata.items())]:
            egg.writestr(zipfile.ZipInfo(name, _FIXED_TIME), content)
    return Egg(version, buffer.getvalue())


def _sources(folder: Traversable, prefix: str) -> list[tuple[str, bytes]]:
    found: list[tuple[str, bytes]] = []
    for entry in folder.iterdir():
        if entry.is_dir() and entry.name != "__pycache__":
            found += _sources(entry, f"{prefix}/{entry.name}")
        elif entry.is_file() and not entry.name.endswith((".pyc", ".pyo")):
            found.append((f"{prefix}/{entry.name}", entry.read_bytes()))
    return found
