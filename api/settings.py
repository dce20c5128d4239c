"""Settings for the API. Built at the entry point and passed into ``create_app``."""

from __future__ import annotations

from ipaddress import ip_network
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.web_settings import WebSettings
from search.search_settings import SearchSettings
from search.settings import DbSettings


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KOSODATE_API_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="uvicorn worker processes for `kosodate serve`. Each has its own pool and its own "
        "rate-limit counters (a client spread over N workers may get up to N times the limit).",
    )
    default_limit: int = Field(default=20, ge=1)
    max_limit: int = Field(default=100, ge=1, le=10_000)
    default_radius_m: float = Field(default=3000, gt=0)
    max_radius_m: float = Field(default=50_000, gt=0)
    max_query_length: int = Field(default=100, ge=1)
    cors_origins: list[str] = Field(default_factory=list)
    # Public API (issue 7): OGC API Features, tiles, exports, change feed, hand-off, operator endpoints.
    read_only_database_url: SecretStr | None = Field(
        default=None, description="Public reads go through this (read-only role) URL when set."
    )
    max_bbox_area_deg2: float = Field(default=400.0, gt=0, description="Largest bbox, square degrees")
    max_items_limit: int = Field(default=1000, ge=1, le=10_000)
    default_items_limit: int = Field(default=100, ge=1)
    max_offset: int = Field(default=100_000, ge=0)
    count_cap: int = Field(default=10_000, ge=0, description="numberMatched is given up to this count")
    cache_max_age_s: int = Field(default=60, ge=0)
    tile_cluster_below_zoom: int = Field(default=12, ge=0, le=22)
    max_tile_zoom: int = Field(default=20, ge=0, le=24)
    data_licence: str = Field(default="CC-BY-4.0", pattern=r"^(CC-BY-4\.0|PDL-1\.0)$")
    attribution: str = Field(default="kosodate contributors")
    extra_credits: list[str] = Field(
        default_factory=lambda: ["「国土数値情報（行政区域データ）（国土交通省）」を加工して作成"],
        description="Credits for third-party data used (MLIT boundaries, the gazetteer).",
    )
    gazetteer_credit: str = Field(
        default="位置の一部は Geolonia 住所データ（国土交通省 位置参照情報を加工, CC BY 4.0）による",
        description="Added to the credits when any live shop was placed by the gazetteer.",
    )
    gazetteer_sources: list[str] = Field(
        default_factory=lambda: ["gazetteer", "geolonia"],
        description="geocode_source values that mean the gazetteer placed the shop.",
    )
    handoff_token: SecretStr | None = None
    operator_token: SecretStr | None = None
    upload_dir: Path = Field(default=Path(".data/uploads"))
    max_upload_bytes: int = Field(default=20_000_000, ge=1)
    ingest_command: list[str] = Field(
        default_factory=lambda: ["kosodate"], description="How to run the CLI for operator-triggered runs"
    )
    ingest_timeout_s: float = Field(default=600, gt=0)
    max_changes_limit: int = Field(default=1000, ge=1)
    # Per-client rate limiting (api/ratelimit.py): a token bucket per address, per worker process.
    rate_limit_per_minute: int = Field(default=1200, ge=0, description="Sustained requests a minute; 0 = off")
    rate_limit_burst: int = Field(default=300, ge=1, description="Requests a client may make at once")
    rate_limit_max_clients: int = Field(default=100_000, ge=1, description="Clients tracked (memory bound)")
    trusted_proxies: list[str] = Field(
        default_factory=list, description="Addresses/networks whose X-Forwarded-For is believed"
    )

    @model_validator(mode="after")
    def _limits_consistent(self) -> ApiSettings:
        if self.default_limit > self.max_limit:
            raise ValueError("default_limit must not exceed max_limit")
        if self.default_radius_m > self.max_radius_m:
            raise ValueError("default_radius_m must not exceed max_radius_m")
        if self.default_items_limit > self.max_items_limit:
            raise ValueError("default_items_limit must not exceed max_items_limit")
        for entry in self.trusted_proxies:
            try:
                ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"trusted_proxies: {entry!r} is not an address or network") from None
        return self


class AppSettings(BaseModel):
    db: DbSettings = Field(default_factory=DbSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)

    def public_db(self) -> DbSettings:
        """Where public reads go: the read-only URL when configured, otherwise the main database."""
        if self.api.read_only_database_url is None:
            return self.db
        return self.db.model_copy(update={"url": self.api.read_only_database_url})
