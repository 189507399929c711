"""A ``repricer`` command run in a child process against the fake WooCommerce store:
its config file, environment and command line, shared by the kill and concurrency tests."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from sqlalchemy import Engine

from repricer.loopback import LoopbackServer


def woocommerce_config(
    path: Path, engine: Engine, server: LoopbackServer, *, database: str = "", storefront: str = ""
) -> Path:
    """Write a config for ``engine`` and the store on ``server``; ``database`` and
    ``storefront`` are extra TOML lines for those sections."""
    url = engine.url.render_as_string(hide_password=False)
    path.write_text(
        f'[database]\nurl = "{url}"\n{database}[storefront]\nkind = "woocommerce"\n{storefront}'
        f'[storefront.woocommerce]\nurl = "{server.url("")}"\n',
        encoding="utf-8",
    )
    return path


def child_env(key: str, secret: str, **extra: str) -> dict[str, str]:
    """This environment without any ``REPRICER_*`` setting, plus the store's credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPRICER_")}
    return env | {
        "REPRICER_WOOCOMMERCE_KEY": key,
        "REPRICER_WOOCOMMERCE_SECRET": secret,
        "PYTHONPATH": os.getcwd(),
        **extra,
    }


def repricer_argv(config: Path, *command: str) -> list[str]:
    """``repricer --config CONFIG COMMAND…`` run by this interpreter."""
    script = (
        "import sys; from repricer.cli import main; sys.argv = ['repricer', *sys.argv[1:]]; main()"
    )
    return [sys.executable, "-c", script, "--config", str(config), *command]
