from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from repricer.config import load_settings
from repricer.exceptions import ConfigError

VALID = """
[pricing]
currency = "EUR"
rules_dir = "my-rules"

[[suppliers]]
name = "acme"
path = "feeds/acme.yml"
format = "yml"
every = "15m"
max_missing_share = "25%"

[[competitors]]
name = "shop"
domain = "shop.example"
render = "browser"
"""


def test_example_config_is_valid() -> None:
    settings = load_settings(
        Path(__file__).parent.parent / "repricer" / "starter" / "config.example.toml"
    )
    assert settings.storefront.kind == "file"
    assert settings.pricing.approval.auto_approve_band == Decimal("0.05")


def test_valid_file_loads_and_resolves_paths(write_config: Callable[[str], Path]) -> None:
    path = write_config(VALID)
    settings = load_settings(path)
    assert settings.pricing.currency == "EUR"
    assert settings.pricing.rules_dir == path.parent / "my-rules"
    supplier = settings.supplier("acme")
    assert supplier.path == path.parent / "feeds/acme.yml"
    assert supplier.every.total_seconds() == 900
    assert supplier.max_missing_share == Decimal("0.25")
    assert settings.competitor("shop").render == "browser"


def test_relative_sqlite_url_is_next_to_config(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[database]\nurl = "sqlite:///data/r.db"\n')
    settings = load_settings(tmp_path / "config.toml")
    assert settings.database.url == f"sqlite:///{tmp_path}/data/r.db"


def test_env_override_wins(
    write_config: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(VALID)
    monkeypatch.setenv("REPRICER_PRICING__CURRENCY", "USD")
    monkeypatch.setenv("REPRICER_DATABASE__URL", "sqlite:////tmp/elsewhere.db")
    settings = load_settings(path)
    assert settings.pricing.currency == "USD"
    assert settings.pricing.rules_dir == path.parent / "my-rules"  # rest of the section kept
    assert settings.database.url == "sqlite:////tmp/elsewhere.db"


def test_config_path_from_environment(
    write_config: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(VALID)
    monkeypatch.setenv("REPRICER_CONFIG", str(path))
    assert load_settings().pricing.currency == "EUR"


BAD = [
    pytest.param(
        '[pricing]\ncurrencyy = "RUB"\n', "pricing.currencyy: unknown key", id="unknown-key"
    ),
    pytest.param("[nonsense]\na = 1\n", "nonsense: unknown key", id="unknown-table"),
    pytest.param(
        '[pricing]\nmax_changed_share = "lots"\n',
        "pricing.max_changed_share: not a percentage",
        id="bad-percent",
    ),
    pytest.param('[crawl]\nretries = "many"\n', "crawl.retries:", id="bad-type"),
    pytest.param(
        '[[suppliers]]\nname = "a"\nformat = "pdf"\npath = "x"\n',
        "suppliers[0].format:",
        id="bad-enum",
    ),
    pytest.param(
        '[[suppliers]]\nname = "a"\nformat = "csv"\n',
        "set exactly one of url or path",
        id="no-source",
    ),
    pytest.param(
        '[[suppliers]]\nname = "a"\nformat = "csv"\npath = "x"\nevery = "soon"\n',
        "suppliers[0].every: not a duration",
        id="bad-duration",
    ),
    pytest.param("[pricing\n", "not valid TOML", id="broken-toml"),
]


@pytest.mark.parametrize(("text", "expected"), BAD)
def test_bad_config_names_file_and_key(
    write_config: Callable[[str], Path], text: str, expected: str
) -> None:
    path = write_config(text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert expected in message


SECRETS = [
    pytest.param(
        '[storefront.woocommerce]\nconsumer_secret = "cs_123"\n',
        "storefront.woocommerce.consumer_secret",
        "REPRICER_WOOCOMMERCE_SECRET",
        id="woo",
    ),
    pytest.param(
        '[storefront.shopify]\naccess_token = "shpat_1"\n',
        "storefront.shopify.access_token",
        "REPRICER_SHOPIFY_TOKEN",
        id="shopify",
    ),
    pytest.param(
        '[[suppliers]]\nname = "big-supply"\nformat = "yml"\nurl = "https://x"\npassword = "hunter2"\n',
        "suppliers[0].password",
        "REPRICER_SUPPLIER_BIG_SUPPLY_PASSWORD",
        id="feed-password",
    ),
]


@pytest.mark.parametrize(("text", "key", "variable"), SECRETS)
def test_secret_in_file_is_refused(
    write_config: Callable[[str], Path], text: str, key: str, variable: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(write_config(text))
    message = str(info.value)
    assert key in message and variable in message
    assert "cs_123" not in message and "shpat_1" not in message and "hunter2" not in message


def test_missing_file_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="repricer init"):
        load_settings(tmp_path / "nope.toml")


def test_duplicate_supplier_names_rejected(write_config: Callable[[str], Path]) -> None:
    text = '[[suppliers]]\nname = "a"\nformat = "csv"\npath = "x"\n' * 2
    with pytest.raises(ConfigError, match="duplicate suppliers name"):
        load_settings(write_config(text))
