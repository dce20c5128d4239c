"""Database settings. ``KOSODATE_DATABASE_URL`` wins; otherwise the embedded cluster is used."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class DbSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KOSODATE_DB_", extra="ignore", populate_by_name=True)

    url: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("KOSODATE_DATABASE_URL", "KOSODATE_DB_URL"),
        description="A PostgreSQL + PostGIS server to use instead of the embedded cluster.",
    )
    data_dir: Path = Field(default=Path(".data"), description="Where the embedded cluster lives.")
    host: str = "127.0.0.1"
    port: int = Field(default=54329, ge=1, le=65535)
    name: str = Field(default="kosodate", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    user: str = "postgres"
    pg_bin: Path | None = Field(default=None, description="Directory with initdb/pg_ctl (auto-detected).")
    pool_size: int = Field(default=10, ge=1, le=200)
    statement_timeout_ms: int = Field(default=10_000, ge=100)

    @field_validator("url")
    @classmethod
    def _url_is_postgres(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("postgresql", "postgres:")):
            raise ValueError("KOSODATE_DATABASE_URL must be a postgresql:// URL")
        return value

    @property
    def embedded(self) -> bool:
        return self.url is None

    def sqlalchemy_url(self) -> str:
        """The URL with the psycopg 3 driver named, as SQLAlchemy wants it."""
        if self.url is None:
            raw = f"postgresql://{self.user}@{self.host}:{self.port}/{self.name}"
        else:
            raw = self.url.get_secret_value()
        scheme, _, rest = raw.partition("://")
        if scheme in ("postgres", "postgresql", "postgresql+psycopg"):
            return f"postgresql+psycopg://{rest}"
        raise ValueError(f"unsupported database URL scheme {scheme!r}")

    def libpq_url(self) -> str:
        """The URL as libpq (psycopg without SQLAlchemy) takes it."""
        return self.sqlalchemy_url().replace("postgresql+psycopg://", "postgresql://", 1)

    def display_url(self) -> str:
        """The URL without a password, for printing and logs."""
        url = self.sqlalchemy_url().replace("postgresql+psycopg://", "postgresql://")
        scheme, _, rest = url.partition("://")
        creds, at, hostpart = rest.rpartition("@")
        if at and ":" in creds:
            creds = creds.split(":", 1)[0] + ":***"
        return f"{scheme}://{creds}{at}{hostpart}"
