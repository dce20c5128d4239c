"""Response schemas (the public contract, documented in OpenAPI)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class ShopHit(BaseModel):
    id: int
    name: str
    name_kana: str | None = None
    address: str
    lat: float
    lng: float
    distance_m: float | None = Field(None, description="Geodesic distance from the query point, metres")
    categories: list[str]
    amenities: list[str]
    programme: str
    municipality_code: str | None = None
    precision: str | None = Field(None, description="How precisely the shop is placed")
    perk_text: str | None = None
    source: str
    municipality: str | None = None
    card_required: bool | None = Field(None, description="true: 特典 (show the card); false: 応援 (for all)")
    hours: str | None = None


class SearchResponse(BaseModel):
    hits: list[ShopHit]
    total: int = Field(description="How many shops match (see total_exact)")
    total_exact: bool = Field(description="true: total is exact; false: total is an estimate")
    facets: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="Counts per value for each facet asked for (facets=category,...)"
    )
    next_cursor: str | None = Field(None, description="Pass as cursor= for the next page; null at the end")
    backend: str = Field(description="Which search backend answered: postgres or meilisearch")
    fallback: str | None = Field(None, description="Why the configured backend did not answer, if it did not")


class Tag(BaseModel):
    kind: str
    value: str
    why: str


class ShopDetail(BaseModel):
    id: int
    name: str
    name_kana: str | None
    address: str
    building: str | None
    prefecture: str | None
    postal_code: str | None
    phone: str | None
    url: str | None
    hours: str | None
    closed_days: str | None
    perk_text: str | None
    categories: list[str]
    amenities: list[str]
    tags: list[Tag]
    cards: list[str]
    card_required: bool | None
    multi_child: bool
    programme: str
    programme_name: str
    municipality_code: str | None
    lg_code: str | None
    lat: float | None
    lng: float | None
    precision: str | None = Field(None, validation_alias="geocode_precision")
    geocode_source: str | None
    geocoded_at: datetime | None
    location_flags: list[str]
    registered_on: date | None
    expires_on: date | None
    status: str
    source: str
    source_id: str
    updated_at: datetime


class Health(BaseModel):
    status: str
    database: str
    postgis: str | None = None
