"""Online geocoders through geopy: the GSI address search (国土地理院) and Nominatim.

Both are off by default (``GeocoderSettings.online``). Each is wrapped in ``OnlineGeocoder``, which
spaces requests (``min_delay_s``), sends a real user agent, and retries only when the service timed
out, was unavailable or rate-limited us; a bad query is not retried (geopy's own ``RateLimiter``
retries every error, which is why it is not used here).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from geopy.exc import GeocoderRateLimited, GeocoderTimedOut, GeocoderUnavailable, GeopyError
from geopy.geocoders import Nominatim
from geopy.geocoders.base import DEFAULT_SENTINEL
from geopy.geocoders.base import Geocoder as GeopyGeocoder
from geopy.location import Location

from geo.address import split_address
from geo.geocoding import GeocodeResult, now
from geo.settings import GeocoderSettings

RETRYABLE = (GeocoderTimedOut, GeocoderUnavailable, GeocoderRateLimited)


def title_precision(title: str) -> str:
    """How far down a GSI title goes: 番地/号 -> block, 町丁目 -> town, else municipality/prefecture."""
    parts = split_address(title)
    if parts.rest and any(c.isdigit() for c in re.sub(r"^[0-9]+丁目", "", parts.rest)):
        return "block"
    if parts.town or parts.rest:
        return "town"
    if parts.municipality:
        return "municipality"
    return "prefecture"


class GSI(GeopyGeocoder):  # type: ignore[misc]
    """The 国土地理院 address search (``/address-search/AddressSearch?q=``) as a geopy geocoder."""

    def __init__(self, url: str, *, user_agent: str, timeout: float = 10.0) -> None:
        scheme = urlsplit(url).scheme or "https"
        super().__init__(scheme=scheme, timeout=timeout, user_agent=user_agent)
        self.api = url

    def geocode(self, query: str, *, exactly_one: bool = True, timeout: Any = DEFAULT_SENTINEL) -> Any:
        url = f"{self.api}?{urlencode({'q': query})}"
        return self._call_geocoder(url, lambda data: self._parse(data, exactly_one), timeout=timeout)

    @staticmethod
    def _parse(data: Any, exactly_one: bool) -> Location | list[Location] | None:
        if not isinstance(data, list) or not data:
            return None
        found = []
        for feature in data:
            try:
                lng, lat = feature["geometry"]["coordinates"][:2]
                title = str(feature["properties"]["title"])
            except (KeyError, TypeError, ValueError):
                continue
            found.append(Location(title, (float(lat), float(lng)), feature))
        if not found:
            return None
        return found[0] if exactly_one else found


_NOMINATIM_LEVELS = {
    "building": "building", "house": "building", "amenity": "building", "shop": "building",
    "city_block": "block", "block": "block",
    "neighbourhood": "town", "quarter": "town", "suburb": "town", "hamlet": "town", "village": "town",
    "isolated_dwelling": "town", "residential": "town", "road": "town",
    "city": "municipality", "town": "municipality", "municipality": "municipality", "county": "municipality",
    "state": "prefecture", "province": "prefecture", "region": "prefecture",
}  # fmt: skip


def nominatim_precision(raw: dict[str, Any]) -> str:
    kind = str(raw.get("addresstype") or raw.get("type") or "")
    return _NOMINATIM_LEVELS.get(kind, "municipality")  # unknown kinds are not trusted below a city


class OnlineGeocoder:
    """Our ``Geocoder`` over a geopy geocoder: rate limited, retrying only what is worth retrying."""

    def __init__(
        self,
        name: str,
        service: Any,
        precision_of: Callable[[Location], str],
        *,
        min_delay_s: float,
        max_retries: int,
        backoff_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        query_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.service = service
        self.precision_of = precision_of
        self.min_delay_s = min_delay_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self._clock = clock
        self._sleep = sleep
        self._last: float | None = None
        self.query_kwargs = query_kwargs or {}
        self.requests = 0
        self.errors: list[str] = []

    def _wait_turn(self) -> None:
        if self._last is not None:
            wait = self.min_delay_s - (self._clock() - self._last)
            if wait > 0:
                self._sleep(wait)
        self._last = self._clock()

    def geocode(self, address: str) -> GeocodeResult | None:
        for attempt in range(self.max_retries + 1):
            self._wait_turn()
            self.requests += 1
            try:
                location = self.service.geocode(address, exactly_one=True, **self.query_kwargs)
            except RETRYABLE as exc:
                if attempt == self.max_retries:
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                    return None
                retry_after = getattr(exc, "retry_after", None)
                self._sleep(float(retry_after) if retry_after else self.backoff_s * 2**attempt)
                continue
            except GeopyError as exc:  # a bad query or a refused request: retrying will not help
                self.errors.append(f"{type(exc).__name__}: {exc}")
                return None
            if location is None:
                return None
            return GeocodeResult(
                float(location.latitude),
                float(location.longitude),
                self.precision_of(location),
                self.name,
                now(),
                None,
                str(location.address),
            )
        return None


def build_online(settings: GeocoderSettings) -> list[OnlineGeocoder]:
    """The online geocoders the settings enable, in the order given."""
    out = []
    for name in settings.enabled:
        if name == "gsi":
            service: Any = GSI(settings.gsi_url, user_agent=settings.user_agent, timeout=settings.timeout_s)
            out.append(
                OnlineGeocoder(
                    "gsi",
                    service,
                    lambda loc: title_precision(str(loc.address)),
                    min_delay_s=settings.min_delay_s,
                    max_retries=settings.max_retries,
                    backoff_s=settings.backoff_s,
                )
            )
        elif name == "nominatim":
            service = Nominatim(
                domain=settings.nominatim_domain,
                scheme=settings.nominatim_scheme,
                user_agent=settings.user_agent,
                timeout=settings.timeout_s,
            )
            out.append(
                OnlineGeocoder(
                    "nominatim",
                    service,
                    lambda loc: nominatim_precision(loc.raw),
                    min_delay_s=settings.min_delay_s,
                    max_retries=settings.max_retries,
                    backoff_s=settings.backoff_s,
                    query_kwargs={"country_codes": "jp", "addressdetails": False},
                )
            )
    return out
