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


class SearchResponse(BaseModel):
    hits: list[ShopHit]


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
