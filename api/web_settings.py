"""Settings for the family page and the widget (``KOSODATE_WEB_*``)."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

GSI_PALE = "https://cyberjapandata.gsi.go.jp/xyz/pale/{z}/{x}/{y}.png"


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KOSODATE_WEB_", extra="ignore")

    center_lat: float = Field(default=35.3387, ge=-90, le=90, description="Where the map opens")
    center_lng: float = Field(default=139.4871, ge=-180, le=180)
    zoom: int = Field(default=13, ge=1, le=18)
    radius_m: int = Field(default=3000, gt=0, description="The radius preset chosen when the page opens")
    gsi_tiles: bool = Field(
        default=False, description="Draw 地理院タイル under the markers (the browser then fetches them)"
    )
    gsi_url: str = Field(default=GSI_PALE, description="The GSI tile template ({z}/{x}/{y})")

    @field_validator("gsi_url")
    @classmethod
    def _https_template(cls, value: str) -> str:
        if not value.startswith("https://") or not all(k in value for k in ("{z}", "{x}", "{y}")):
            raise ValueError("gsi_url must be an https:// template with {z}, {x} and {y}")
        return value

    def tile_origin(self) -> str:
        """The scheme and host the tiles come from (for the page's Content-Security-Policy)."""
        scheme, _, rest = self.gsi_url.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}"
