"""Settings: one model read from config.toml, with ``REPRICER_*`` environment overrides.

Built explicitly by :func:`load_settings`, never at import time. Every key is documented
in ``config.example.toml``. Secrets (storefront keys, tokens, feed passwords) are never
read from the file: :func:`get_secret` reads them from the environment.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ByteSize,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from repricer.durations_percentages import parse_duration, parse_fraction
from repricer.exceptions import ConfigError, RepricerError
from repricer.redact import register_secret
from repricer.validation_messages import all_errors

Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
MIN_EVERY = timedelta(minutes=1)


def _at_least(minimum: timedelta) -> AfterValidator:
    def check(value: timedelta) -> timedelta:
        if value < minimum:
            raise ValueError(f"must be at least {minimum.total_seconds():g}s")
        return value

    return AfterValidator(check)


# A schedule interval: "0s" would run a job back to back.
Interval = Annotated[timedelta, BeforeValidator(parse_duration), _at_least(MIN_EVERY)]
# A poll of a small stock-only source may be more frequent, not back to back.
PollInterval = Annotated[
    timedelta, BeforeValidator(parse_duration), _at_least(timedelta(seconds=10))
]
# A timeout or deadline: zero would fail every request.
Positive = Annotated[
    timedelta, BeforeValidator(parse_duration), _at_least(timedelta(milliseconds=100))
]
Fraction = Annotated[Decimal, BeforeValidator(parse_fraction), Field(ge=0)]

DEFAULT_CONFIG = Path("config.toml")

# Keys that hold secrets, wherever they appear, and the variable to use instead.
SECRET_ENV: dict[str, str] = {
    "password": "REPRICER_SUPPLIER_<NAME>_PASSWORD",
    "consumer_key": "REPRICER_WOOCOMMERCE_KEY",
    "consumer_secret": "REPRICER_WOOCOMMERCE_SECRET",
    "access_token": "REPRICER_SHOPIFY_TOKEN",
    "token": "REPRICER_SHOPIFY_TOKEN",
    "api_key": "REPRICER_WOOCOMMERCE_KEY",
    "secret": "REPRICER_HTTP_SECRET",
    "hmac_secret": "REPRICER_HTTP_SECRET",
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Section):
    url: str = "sqlite:///repricer.db"
    echo: bool = False
    # A lease holder (scheduler, push) that stops renewing for this long is taken as dead.
    lease_ttl: Duration = Field(
        timedelta(seconds=30), ge=timedelta(seconds=1), le=timedelta(seconds=50)
    )


class ApprovalSettings(_Section):
    auto_approve_band: Fraction = Decimal("0.05")
    expire_after: Duration = timedelta(hours=24)


class PricingSettings(_Section):
    rules_dir: Path = Path("rules")
    currency: str = Field("RUB", pattern=r"^[A-Z]{3}$")
    max_changed_share: Fraction = Decimal("0.5")
    max_median_change: Fraction = Decimal("0.15")
    approval: ApprovalSettings = ApprovalSettings()


class SupplierSettings(_Section):
    name: str = Field(min_length=1)
    url: str | None = None
    path: Path | None = None
    format: Literal["yml", "csv", "xlsx"]
    encoding: str = "auto"
    delimiter: str | None = None
    sheet: str | None = None
    every: Interval = timedelta(minutes=15)
    key: Literal["sku", "vendorCode", "barcode"] = "sku"
    columns: dict[str, str] = {}
    currency: str | None = None
    priority: int = 0
    complete: bool = True
    username: str | None = None
    timeout: Positive = timedelta(seconds=60)
    retries: int = Field(3, ge=0)
    download_deadline: Positive = timedelta(minutes=10)
    max_download: ByteSize = ByteSize(1 << 30)
    hold_cost_ratio: Decimal = Field(Decimal(2), gt=1)
    max_missing_share: Fraction = Decimal("0.2")
    max_cost_change: Fraction = Decimal("0.5")
    max_cost_change_share: Fraction = Decimal("0.1")
    # A stock-only source ("остатки"): key + stock/available rows, polled every stock_every.
    stock_url: str | None = None
    stock_path: Path | None = None
    stock_every: PollInterval = timedelta(minutes=5)
    # Safety buffer: an offer with fewer than min_stock units counts as out of stock.
    min_stock: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _one_source(self) -> SupplierSettings:
        if (self.url is None) == (self.path is None):
            raise ValueError("set exactly one of url or path")
        if self.stock_url is not None and self.stock_path is not None:
            raise ValueError("set at most one of stock_url or stock_path")
        return self

    @property
    def has_stock_source(self) -> bool:
        """Whether a separate stock-only source is configured."""
        return self.stock_url is not None or self.stock_path is not None

    @property
    def password_env(self) -> str:
        """Environment variable holding this supplier's basic-auth password."""
        return supplier_password_env(self.name)


def supplier_password_env(name: str) -> str:
    """``REPRICER_SUPPLIER_<NAME>_PASSWORD`` with the name upper-cased, non-alphanumerics as ``_``."""
    return "REPRICER_SUPPLIER_" + re.sub(r"[^A-Z0-9]+", "_", name.upper()) + "_PASSWORD"


class SelectorSettings(_Section):
    """CSS selectors, or XPath when the value starts with ``/`` or ``(``."""

    price: str | None = None
    old_price: str | None = None
    currency: str | None = None
    availability: str | None = None
    title: str | None = None
    sku: str | None = None
    in_stock: list[str] = []
    out_of_stock: list[str] = []


class CompetitorSettings(_Section):
    name: str = Field(min_length=1)
    domain: str = Field(min_length=1)
    render: Literal["http", "browser"] = "http"
    every: Interval = timedelta(hours=6)
    obey_robots: bool = True
    concurrency: int = Field(2, ge=1)
    delay: float = Field(1.0, ge=0)
    is_self: bool = False
    currency: str | None = None
    selectors: SelectorSettings | None = None
    sitemaps: list[str] = []  # listings discover: sitemap/robots.txt URLs (default robots.txt)
    search_url: str | None = None  # listings discover: "https://shop/search?q={query}"
    # Other hosts the shop's pages and redirects may be on (mirrors, a CDN).
    aliases: list[str] = []
    # True lets the crawl reach loopback / private addresses (a shop on the LAN, tests).
    local: bool = False


class CrawlSettings(_Section):
    user_agent: str = "repricer/0.1 (+https://github.com/repricer/repricer; price monitoring)"
    chromium_path: Path = Path("/usr/bin/chromium")
    timeout: Positive = timedelta(seconds=30)
    retries: int = Field(2, ge=0)
    autothrottle: bool = True
    # Processes extracting pages beside the crawl's reactor (0: in it); spiders.extraction_pool.
    extract_workers: int = Field(1, ge=0)
    anomaly_threshold: Fraction = Decimal("0.5")
    unhealthy_share: Fraction = Decimal("0.3")
    min_confidence: float = Field(0.8, ge=0, le=1)
    run_timeout: Duration = timedelta(hours=1)
    backend: Literal["local", "scrapyd"] = "local"
    scrapyd_nodes: list[str] = []
    scrapyd_project: str = Field("repricer", pattern=r"^[A-Za-z0-9_.-]+$")
    jobs_per_node: int = Field(1, ge=1)
    shard_size: int = Field(5000, ge=1)
    max_attempts: int = Field(3, ge=1)
    poll_interval: Duration = timedelta(seconds=2)
    node_timeout: Duration = timedelta(seconds=30)

    @model_validator(mode="after")
    def _nodes_for_scrapyd(self) -> CrawlSettings:
        if self.backend == "scrapyd" and not self.scrapyd_nodes:
            raise ValueError("backend = 'scrapyd' needs at least one URL in scrapyd_nodes")
        for node in self.scrapyd_nodes:
            if not re.match(r"^https?://[^/@\s]+(:\d+)?/?$", node):
                raise ValueError(
                    f"scrapyd node {node!r} must be http(s)://host[:port] "
                    "(credentials come from REPRICER_SCRAPYD_USERNAME/PASSWORD)"
                )
        return self


class FileStorefront(_Section):
    path: Path = Path("storefront")
    formats: list[Literal["csv", "yml"]] = ["csv"]


class WooCommerceStorefront(_Section):
    url: str | None = None
    price_field: Literal["regular", "sale"] = "regular"


class ShopifyStorefront(_Section):
    shop_url: str | None = None
    api_version: str = "2025-01"
    location_id: str | None = None  # where stock is set: "gid://shopify/Location/1" or "1"


class HttpStorefront(_Section):
    url: str | None = None
    signature_header: str = "X-Repricer-Signature"


class StockSettings(_Section):
    """What the storefront is told about stock; see repricer.stock."""

    mode: Literal["quantity", "status", "off"] = "quantity"
    own_stock: bool = True
    when_supplier_gone: Literal["keep", "zero"] = "keep"
    supplier_gone_after: Duration = timedelta(hours=24)
    debounce: Duration = timedelta(seconds=5)
    unknown_quantity: int = Field(1, ge=1)


class StorefrontSettings(_Section):
    kind: Literal["file", "woocommerce", "shopify", "http"] = "file"
    auto_push: bool = False
    stock: StockSettings = StockSettings()
    timeout: Positive = timedelta(seconds=30)
    retries: int = Field(5, ge=0)
    file: FileStorefront = FileStorefront()
    woocommerce: WooCommerceStorefront = WooCommerceStorefront()
    shopify: ShopifyStorefront = ShopifyStorefront()
    http: HttpStorefront = HttpStorefront()


class MatchingSettings(_Section):
    """``listings discover``: thresholds (None: the shipped model's) and drift check."""

    accept_at: float | None = Field(None, ge=0, le=1)
    review_at: float | None = Field(None, ge=0, le=1)
    drift_similarity: float = Field(0.6, ge=0, le=1)


class SchedulerSettings(_Section):
    timezone: str = "UTC"
    reprice_debounce: Duration = timedelta(minutes=2)
    misfire_grace: Duration = timedelta(minutes=5)
    crawl_workers: int = Field(2, ge=1)


class RetentionSettings(_Section):
    """``repricer db prune`` defaults and the scheduled ``db:prune`` job."""

    enabled: bool = True
    older_than: Annotated[
        timedelta, BeforeValidator(parse_duration), _at_least(timedelta(hours=1))
    ] = timedelta(days=90)
    every: Interval = timedelta(days=1)


AlertCondition = Literal[
    "feed_failed", "site_unhealthy", "queue_waiting", "undercut", "push_failed"
]
ALERT_CONDITIONS: tuple[AlertCondition, ...] = (
    "feed_failed", "site_unhealthy", "queue_waiting", "undercut", "push_failed"
)  # fmt: skip


class AlertSettings(_Section):
    """One alert destination: Apprise URLs read from the environment variable ``urls_env``."""

    name: str = Field(min_length=1)
    urls_env: str = Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    conditions: list[AlertCondition] = list(ALERT_CONDITIONS)
    queue_waiting_after: Duration = timedelta(hours=4)
    min_interval: Duration = timedelta(minutes=10)
    notify_cleared: bool = True


class Settings(BaseSettings):
    """The whole configuration. Build it with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="REPRICER_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    database: DatabaseSettings = DatabaseSettings()
    pricing: PricingSettings = PricingSettings()
    suppliers: list[SupplierSettings] = []
    competitors: list[CompetitorSettings] = []
    crawl: CrawlSettings = CrawlSettings()
    storefront: StorefrontSettings = StorefrontSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    retention: RetentionSettings = RetentionSettings()
    matching: MatchingSettings = MatchingSettings()
    alerts: list[AlertSettings] = []
    config_path: Path | None = Field(None, exclude=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment first: REPRICER_* overrides what the file says.
        return (env_settings, init_settings)

    @model_validator(mode="after")
    def _unique_names(self) -> Settings:
        for kind, items in (
            ("suppliers", self.suppliers),
            ("competitors", self.competitors),
            ("alerts", self.alerts),
        ):
            names = [item.name for item in items]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"duplicate {kind} name(s): {', '.join(dupes)}")
        return self

    def supplier(self, name: str) -> SupplierSettings:
        for supplier in self.suppliers:
            if supplier.name == name:
                return supplier
        raise ConfigError(f"no supplier named {name!r}", path=self.config_path, key="suppliers")

    def competitor(self, name: str) -> CompetitorSettings:
        for competitor in self.competitors:
            if competitor.name == name:
                return competitor
        raise ConfigError(f"no competitor named {name!r}", path=self.config_path, key="competitors")


def resolve_config_path(path: Path | str | None = None) -> Path:
    """``--config`` if given, else ``$REPRICER_CONFIG``, else ``./config.toml``."""
    if path:
        return Path(path)
    return Path(os.environ.get("REPRICER_CONFIG") or DEFAULT_CONFIG)


def load_settings(path: Path | str | None = None, *, missing_ok: bool = False) -> Settings:
    """Read and validate the config file; raise :class:`ConfigError` naming file and key.

    Relative paths in the file (rules_dir, feed paths, the SQLite file, the file
    storefront) are taken relative to the config file's folder. With ``missing_ok``,
    a missing file gives the defaults (plus the environment).
    """
    config_path = resolve_config_path(path)
    data = _read_toml(config_path, missing_ok=missing_ok)
    _refuse_secrets(data, config_path)
    try:
        settings = Settings(**data, config_path=config_path)
    except ValidationError as exc:
        raise _config_error(exc, config_path) from None
    return _resolve_paths(settings, config_path.resolve().parent)


def get_secret(var: str) -> str:
    """Read a secret from the environment, or raise a ConfigError naming the variable."""
    value = os.environ.get(var)
    if not value:
        raise ConfigError(
            f"set the environment variable {var} (secrets are not read from config.toml)"
        )
    register_secret(value)
    return value


def _read_toml(path: Path, *, missing_ok: bool) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        if missing_ok:
            return {}
        raise ConfigError(
            "config file not found (run `repricer init`, or pass --config / set REPRICER_CONFIG)",
            path=path,
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=path) from None


def _refuse_secrets(data: Any, path: Path, prefix: str = "") -> None:
    if isinstance(data, list):
        for i, item in enumerate(data):
            _refuse_secrets(item, path, f"{prefix}[{i}]")
    elif isinstance(data, dict):
        for key, value in data.items():
            dotted = f"{prefix}.{key}" if prefix else key
            if key.lower() in SECRET_ENV and isinstance(value, str):
                var = SECRET_ENV[key.lower()]
                if key.lower() == "password" and isinstance(data.get("name"), str):
                    var = supplier_password_env(data["name"])
                raise ConfigError(
                    f"secrets are not read from the config file; remove it and set {var} in the environment",
                    path=path,
                    key=dotted,
                )
            _refuse_secrets(value, path, dotted)


def _config_error(exc: ValidationError, path: Path) -> RepricerError:
    """All the file's errors at once, one line each: ``file: key: reason``."""
    errors: list[RepricerError] = []
    for loc, message in all_errors(exc):
        key = ""
        for part in loc:
            key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
        errors.append(ConfigError(message, path=path, key=key or None))
    return ConfigError.combine(errors)


def _resolve_paths(settings: Settings, base: Path) -> Settings:
    def absolute(p: Path) -> Path:
        return p if p.is_absolute() else base / p

    url = settings.database.url
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////") and ":memory:" not in url:
        url = "sqlite:///" + str(absolute(Path(url.removeprefix("sqlite:///"))))
    suppliers = [
        s.model_copy(
            update={
                "path": absolute(s.path) if s.path else None,
                "stock_path": absolute(s.stock_path) if s.stock_path else None,
            }
        )
        for s in settings.suppliers
    ]
    storefront_file = settings.storefront.file.model_copy(
        update={"path": absolute(settings.storefront.file.path)}
    )
    return settings.model_copy(
        update={
            "database": settings.database.model_copy(update={"url": url}),
            "pricing": settings.pricing.model_copy(
                update={"rules_dir": absolute(settings.pricing.rules_dir)}
            ),
            "suppliers": suppliers,
            "storefront": settings.storefront.model_copy(update={"file": storefront_file}),
        }
    )
