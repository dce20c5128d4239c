"""The geocoding chain: one ``Geocoder`` protocol, a cache in front, results that say how precise they are.

Order of use (``GeocodeChain``): the cache, then each geocoder in turn (the offline gazetteer first,
online services only when the settings enable them). The first result at town precision or better
wins; otherwise the best of the coarser answers is kept (``municipality`` is stored as such, never
dressed up as a finer level).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from geo.address import fold
from geo.gazetteer import Gazetteer, Located
from geo.text import normalize_address

# Best first; the index is the rank.
PRECISIONS = ("source", "building", "block", "town", "municipality", "prefecture")
GOOD_ENOUGH = "town"


def rank(precision: str | None) -> int:
    return PRECISIONS.index(precision) if precision in PRECISIONS else len(PRECISIONS)


@dataclass(frozen=True, slots=True)
class GeocodeResult:
    lat: float
    lng: float
    precision: str
    geocoder: str
    geocoded_at: datetime
    municipality_code: str | None = None
    matched: str | None = None  # what the geocoder says it matched (town name, title ...)
    cached: bool = False


@runtime_checkable
class Geocoder(Protocol):
    """Anything that turns an address into a point with a stated precision."""

    name: str

    def geocode(self, address: str) -> GeocodeResult | None: ...


class GeocodeCache(Protocol):
    def get(self, key: str) -> GeocodeResult | None: ...

    def put(self, key: str, address: str, result: GeocodeResult) -> None: ...


def address_key(address: str) -> str:
    """The cache key: the normalised, folded address (building kept: it can matter online)."""
    return fold(normalize_address(address))


def now() -> datetime:
    return datetime.now(UTC)


class GazetteerGeocoder:
    """Offline: town (or 街区 block) points from the gazetteer; the municipality office as a last resort."""

    name = "gazetteer"

    _MEMO_LIMIT = 200_000

    def __init__(self, gazetteer: Gazetteer, prefecture_hint: Iterable[int] = ()) -> None:
        self.gazetteer = gazetteer
        self.prefecture_hint = tuple(prefecture_hint)
        self._memo: dict[str, Located] = {}

    def locate(self, address: str) -> Located:
        """The gazetteer's reading, remembered (the pipeline asks once for jurisdiction, once to place)."""
        found = self._memo.get(address)
        if found is None:
            found = self.gazetteer.locate(address, self.prefecture_hint)
            if len(self._memo) < self._MEMO_LIMIT:
                self._memo[address] = found
        return found

    def geocode(self, address: str) -> GeocodeResult | None:
        found = self.locate(address)
        if found.lat is None or found.lng is None or found.precision is None:
            return None
        matched = found.town or found.municipality
        return GeocodeResult(
            found.lat, found.lng, found.precision, self.name, now(), found.municipality_code, matched
        )


class GeocodeChain:
    """Cache, then geocoders in order; stops at the first result at town precision or better.

    Only results from geocoders named in ``cache_from`` are written to the cache (the online ones:
    the gazetteer is an in-memory lookup and re-reading it picks up newly loaded data).
    """

    def __init__(
        self,
        geocoders: Sequence[Geocoder],
        cache: GeocodeCache | None = None,
        cache_from: Iterable[str] = (),
    ) -> None:
        self.geocoders = list(geocoders)
        self.cache = cache
        self.cache_from = set(cache_from)
        self.calls: dict[str, int] = {}

    def geocode(self, address: str) -> GeocodeResult | None:
        key = address_key(address)
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                self.calls["cache"] = self.calls.get("cache", 0) + 1
                return replace(hit, cached=True)
        best: GeocodeResult | None = None
        for geocoder in self.geocoders:
            self.calls[geocoder.name] = self.calls.get(geocoder.name, 0) + 1
            result = geocoder.geocode(address)
            if result is None:
                continue
            if best is None or rank(result.precision) < rank(best.precision):
                best = result
            if rank(best.precision) <= rank(GOOD_ENOUGH):
                break
        if best is not None and self.cache is not None and best.geocoder in self.cache_from:
            self.cache.put(key, address, best)
        return best
