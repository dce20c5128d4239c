"""Geocoder settings (``KOSODATE_GEOCODER_*``). Built at entry points and passed down."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ONLINE = ("gsi", "nominatim")


class GeocoderSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KOSODATE_GEOCODER_", extra="ignore")

    online: str = Field(
        default="",
        description="Comma-separated online geocoders after the gazetteer (gsi, nominatim); off by default.",
    )
    user_agent: str = Field(
        default="kosodate/0.1 (child-rearing passport shop search; https://github.com/kosodate/kosodate)",
        description="Sent to online services; identify your deployment and a contact.",
    )
    gsi_url: str = "https://msearch.gsi.go.jp/address-search/AddressSearch"
    nominatim_domain: str = "nominatim.openstreetmap.org"
    nominatim_scheme: str = Field(default="https", pattern="^https?$")
    min_delay_s: float = Field(default=1.0, ge=0, description="Seconds between requests to one service.")
    max_retries: int = Field(default=2, ge=0, le=10)
    backoff_s: float = Field(default=1.0, ge=0)
    timeout_s: float = Field(default=10.0, gt=0)
    gazetteer_url: str = Field(
        default="https://geolonia.github.io/japanese-addresses/api/ja",
        description="Base URL for `kosodate gazetteer download` (ja.json and {pref}/{city}.json below it).",
    )
    boundary_tolerance_m: float = Field(
        default=1000.0, ge=0, description="Snap distance to the nearest simplified municipal polygon."
    )
    source_far_m: float = Field(
        default=3000.0,
        ge=0,
        description="A source point this far outside its address's municipality is distrusted.",
    )

    @field_validator("online")
    @classmethod
    def _known(cls, value: str) -> str:
        names = [n.strip() for n in value.split(",") if n.strip()]
        unknown = [n for n in names if n not in ONLINE]
        if unknown:
            raise ValueError(
                f"unknown online geocoder(s) {', '.join(unknown)}; choose from {', '.join(ONLINE)}"
            )
        return ",".join(names)

    @field_validator("user_agent")
    @classmethod
    def _real_agent(cls, value: str) -> str:
        if not value.strip() or value.startswith("geopy/"):
            raise ValueError("set a real user agent that names this deployment (not geopy's default)")
        return value

    @property
    def enabled(self) -> tuple[str, ...]:
        return tuple(n for n in self.online.split(",") if n)
