"""One typed object per pipeline stage."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class RawRow:
    """Strings from the file, keyed by canonical field name, with where they came from."""

    line: int
    source: str
    fields: dict[str, str]
    flags: dict[str, str] = dc_field(default_factory=dict)
    original: dict[str, str] = dc_field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rejection:
    line: int
    reason: str
    field: str | None = None
    value: str | None = None
    raw: dict[str, str] = dc_field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NormalizedShop:
    line: int
    source: str
    source_id: str
    name: str
    name_kana: str | None
    address: str
    building: str | None
    postal_code: str | None
    phone: str | None
    url: str | None
    hours: str | None
    closed_days: str | None
    perk_text: str | None
    municipality_code: str | None
    declared_categories: tuple[str, ...]
    declared_amenities: tuple[str, ...]
    flags: tuple[str, ...]
    lat: str | None
    lng: str | None
    registered_on: date | None
    withdrawn_on: date | None = None
    closed_on: date | None = None
    notified_on: date | None = None
    # search_key(name), made once (the duplicate check and the staged row both need it); "" when the
    # maker of the shop left it to be made from the name
    name_key: str = ""


class GeocodeOutcome(StrEnum):
    PLACED = "placed"
    PENDING = "pending"


@dataclass(frozen=True, slots=True)
class GeocodedShop:
    shop: NormalizedShop
    lat: float | None
    lng: float | None
    precision: str | None
    geocoder: str | None
    location_flags: tuple[str, ...]
    # Jurisdiction evidence from the geocode stage: the municipality the address names (ward level
    # when the town was matched) and the one the point falls in (point-in-polygon).
    address_municipality_code: str | None = None
    point_municipality_code: str | None = None

    @property
    def placed(self) -> bool:
        return self.lat is not None and self.lng is not None


@dataclass(frozen=True, slots=True)
class Tag:
    """A category or amenity and why it was given (a flag name or the words that triggered it)."""

    kind: str  # "category" | "amenity"
    value: str
    why: str


@dataclass(frozen=True, slots=True)
class Handoff:
    to_programme: str
    reason: str
    evidence: dict[str, str]


@dataclass(frozen=True, slots=True)
class TaggedShop:
    geocoded: GeocodedShop
    programme_id: int
    categories: tuple[str, ...]
    amenities: tuple[str, ...]
    tags: tuple[Tag, ...]
    cards: tuple[str, ...]
    card_required: bool | None
    multi_child: bool
    municipality_code: str | None
    lg_code: str | None
    expires_on: date | None
    handoff: Handoff | None = None
    nationwide: bool = False
