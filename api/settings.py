"""Settings for the API. Built at the entry point and passed into ``create_app``."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.web_settings import WebSettings
from search.settings import DbSettings


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KOSODATE_API_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    default_limit: int = Field(default=20, ge=1)
    max_limit: int = Field(default=100, ge=1, le=10_000)
    default_radius_m: float = Field(default=3000, gt=0)
    max_radius_m: float = Field(default=50_000, gt=0)
    max_query_length: int = Field(default=100, ge=1)
    cors_origins: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _limits_consistent(self) -> ApiSettings:
        if self.default_limit > self.max_limit:
            raise ValueError("default_limit must not exceed max_limit")
        if self.default_radius_m > self.max_radius_m:
            raise ValueError("default_radius_m must not exceed max_radius_m")
        return self


class AppSettings(BaseModel):
    db: DbSettings = Field(default_factory=DbSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    web: WebSettings = Field(default_factory=WebSettings)
