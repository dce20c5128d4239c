"""The one search contract every backend answers: a request in, a response out.

The API builds a :class:`SearchRequest` from query parameters; a backend (PostgreSQL or Meilisearch)
returns a :class:`SearchResult`. Both backends order pages deterministically (ties broken by shop id),
so the opaque cursor (an offset bound to the request it came from) always continues the same list.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import time
from enum import StrEnum
from typing import Any

from search.errors import InvalidQuery


class Sort(StrEnum):
    RELEVANCE = "relevance"
    DISTANCE = "distance"


class Facet(StrEnum):
    CATEGORY = "category"
    MUNICIPALITY = "municipality"
    PROGRAMME = "programme"
    AMENITY = "amenity"


class Backend(StrEnum):
    POSTGRES = "postgres"
    MEILISEARCH = "meilisearch"


@dataclass(frozen=True, slots=True)
class BBox:
    west: float
    south: float
    east: float
    north: float

    def __post_init__(self) -> None:
        if not (-180 <= self.west <= 180 and -180 <= self.east <= 180):  # noqa: PLR2004
            raise InvalidQuery("bbox longitudes must be within -180..180")
        if not (-90 <= self.south <= 90 and -90 <= self.north <= 90):  # noqa: PLR2004
            raise InvalidQuery("bbox latitudes must be within -90..90")
        if self.south > self.north:
            raise InvalidQuery("bbox south must not be north of north")
        if self.west > self.east:
            raise InvalidQuery("bbox crossing the antimeridian is not supported (west > east)")

    @classmethod
    def parse(cls, text: str) -> BBox:
        parts = text.split(",")
        if len(parts) != 4:  # noqa: PLR2004
            raise InvalidQuery("bbox must be west,south,east,north (four numbers)")
        try:
            west, south, east, north = (float(p) for p in parts)
        except ValueError as exc:
            raise InvalidQuery("bbox must be west,south,east,north (four numbers)") from exc
        return cls(west, south, east, north)


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """What a caller may ask for. Bounds (radius, limit) are checked by the caller's settings."""

    q: str | None = None
    lat: float | None = None
    lng: float | None = None
    radius_m: float | None = None
    bbox: BBox | None = None
    municipality: str | None = None  # a municipality code (5 or 6 digits)
    categories: tuple[str, ...] = ()
    amenities: tuple[str, ...] = ()
    programme: str | None = None
    card: str | None = None
    multi_child: bool = False
    card_required: bool | None = None  # True: 特典 only; False: 応援 only
    open_at: time | None = None  # "open now": the caller passes the local (JST) time
    sort: Sort = Sort.RELEVANCE
    facets: tuple[Facet, ...] = ()
    limit: int = 20
    offset: int = 0

    def __post_init__(self) -> None:
        if (self.lat is None) != (self.lng is None):
            raise InvalidQuery("give both lat and lng, or neither")
        if self.radius_m is not None and self.lat is None:
            raise InvalidQuery("radius_m needs a point (lat and lng)")
        if self.bbox is not None and self.radius_m is not None:
            raise InvalidQuery("give either a radius around a point or a bbox, not both")
        if self.sort is Sort.DISTANCE and self.lat is None:
            raise InvalidQuery("sort=distance needs a point (lat and lng)")
        if self.multi_child and not self.card:
            raise InvalidQuery("multi_child needs card (the family's programme card)")
        if self.limit < 1 or self.offset < 0:
            raise InvalidQuery("limit must be positive and the cursor offset not negative")

    @property
    def has_point(self) -> bool:
        return self.lat is not None and self.lng is not None

    def fingerprint(self) -> str:
        """What a cursor is bound to: the request without its page position."""
        # The fields as asdict() gives them, without its deep copies (runs on every page with a next one).
        data: dict[str, Any] = {name: getattr(self, name) for name in _REQUEST_FIELDS}
        data |= {"offset": 0, "limit": 1, "bbox": asdict(self.bbox) if self.bbox is not None else None}
        raw = json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    def next_cursor(self, returned: int, total: int | None) -> str | None:
        end = self.offset + returned
        if returned < self.limit or (total is not None and end >= total):
            return None
        payload = json.dumps({"o": end, "f": self.fingerprint()}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(payload).decode().rstrip("=")

    def at_cursor(self, cursor: str | None, *, max_offset: int) -> SearchRequest:
        if not cursor:
            return self
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()))
            offset, fingerprint = int(data["o"]), str(data["f"])
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidQuery("cursor is not valid; start again without it") from exc
        if fingerprint != self.fingerprint():
            raise InvalidQuery("cursor belongs to a different search; start again without it")
        if not 0 <= offset <= max_offset:
            raise InvalidQuery(f"cannot page beyond {max_offset} results; narrow the search")
        return replace(self, offset=offset)


_REQUEST_FIELDS = tuple(f.name for f in fields(SearchRequest))


@dataclass(slots=True)
class SearchResult:
    hits: list[dict[str, Any]]
    total: int
    total_exact: bool
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    backend: Backend = Backend.POSTGRES
    fallback_reason: str | None = None
