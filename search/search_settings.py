"""Which backend answers searches, and how to reach Meilisearch. Built at entry points only."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from search.contract import Backend


class MeiliSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KOSODATE_MEILI_", extra="ignore")

    url: str | None = Field(default=None, description="e.g. http://127.0.0.1:7700; unset = no Meilisearch")
    key: SecretStr | None = Field(
        default=None, description="An API key allowed to search (and write, for ingest)"
    )
    index: str = Field(default="shops", pattern=r"^[A-Za-z0-9_-]{1,100}$")
    timeout_s: float = Field(default=1.0, gt=0, le=30, description="Give up and fall back after this long")
    task_timeout_s: float = Field(default=300, gt=0, description="How long a write may take to be applied")

    @field_validator("url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("KOSODATE_MEILI_URL must be an http:// or https:// URL")
        return value.rstrip("/") if value else None


class SearchSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KOSODATE_SEARCH_", extra="ignore")

    backend: Backend = Field(default=Backend.POSTGRES, description="postgres (default) or meilisearch")
    count_cap: int = Field(default=10_000, ge=100, description="Count matches exactly up to this many")
    max_offset: int = Field(default=1_000, ge=0, description="How deep a cursor may page")
    meili: MeiliSettings = Field(default_factory=MeiliSettings)

    @model_validator(mode="after")
    def _meili_configured(self) -> SearchSettings:
        if self.backend is Backend.MEILISEARCH and self.meili.url is None:
            raise ValueError("KOSODATE_SEARCH_BACKEND=meilisearch needs KOSODATE_MEILI_URL")
        return self
