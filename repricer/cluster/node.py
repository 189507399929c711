"""What a Scrapyd node needs, and the settings it gets from the dispatcher.

A node needs: repricer installed (the same version as the dispatcher), Scrapyd, and
``REPRICER_DATABASE__URL`` (the shared PostgreSQL) in Scrapyd's environment, plus
Chromium at ``[crawl] chromium_path`` if a competitor is rendered in a browser. It needs
no config.toml: each job carries the ``[crawl]`` table, the shard's competitor and the
pricing currency as the spider argument ``config`` (nothing secret is in them).
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from repricer import __version__
from repricer.config import Settings
from repricer.exceptions import ConfigError

DATABASE_ENV = "REPRICER_DATABASE__URL"


def node_payload(settings: Settings, competitor: str) -> str:
    """The spider argument ``config`` for a shard of ``competitor``."""
    data: dict[str, Any] = {
        "crawl": settings.crawl.model_dump(),
        "competitors": [settings.competitor(competitor).model_dump()],
        "pricing": {"currency": settings.pricing.currency},
    }
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=_as_config_value)


def _as_config_value(value: object) -> str:
    """Values in the form config.toml writes them, so the node validates them alike."""
    if isinstance(value, timedelta):
        return f"{value.total_seconds():g}s"
    if isinstance(value, Decimal | Path):
        return str(value)
    raise TypeError(f"cannot send {type(value).__name__} to a node")


def settings_from_payload(payload: str, dispatcher_version: str | None = None) -> Settings:
    """Settings on a node: the dispatcher's payload plus the node's environment (which
    must name the shared database). Raises ``ConfigError`` naming what is missing."""
    if dispatcher_version and dispatcher_version != __version__:
        raise ConfigError(
            f"this node runs repricer {__version__}, the dispatcher {dispatcher_version}: "
            "install the same version on every node"
        )
    if not os.environ.get(DATABASE_ENV):
        raise ConfigError(f"a Scrapyd node needs {DATABASE_ENV} (the shared PostgreSQL URL)")
    try:
        return Settings(**json.loads(payload))
    except ValueError as exc:
        raise ConfigError(f"bad crawl settings from the dispatcher: {exc}") from None
