"""The per-run geocoding and jurisdiction context: gazetteer, boundaries, cache and geocoders, built once.

``Locator.for_run`` reads what the database holds (municipality master, the towns and boundaries of
the programme's prefectures) into memory; ``geocode`` then places each shop and ``decide`` puts it in
its programme (or hands it off, or rejects it). With nothing loaded it behaves like the foundation:
plausible source points are used, everything else waits for geocoding.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Connection

from geo.boundaries import Boundaries
from geo.coords import PointProblem, check_point
from geo.gazetteer import Gazetteer
from geo.geocoding import GazetteerGeocoder, GeocodeChain, Geocoder, GeocodeResult, rank
from geo.online import build_online
from geo.settings import GeocoderSettings
from ingest.jurisdiction import Jurisdiction, decide
from ingest.models import GeocodedShop, NormalizedShop, Rejection
from ingest.programmes import Programme
from search.geostore import PgGeocodeCache, load_boundaries, load_gazetteer


@dataclass
class Locator:
    settings: GeocoderSettings = field(default_factory=GeocoderSettings)
    gazetteer: Gazetteer | None = None
    boundaries: Boundaries | None = None
    chain: GeocodeChain | None = None
    prefecture_hint: tuple[int, ...] = ()
    stats: Counter[str] = field(default_factory=Counter)
    reader: GazetteerGeocoder | None = None

    @classmethod
    def for_run(
        cls, conn: Connection, programme: Programme, settings: GeocoderSettings | None = None
    ) -> Locator:
        settings = settings or GeocoderSettings(online="")
        prefectures = tuple(programme.prefectures)
        gazetteer = load_gazetteer(conn, prefectures)
        gazetteer_or_none = gazetteer if gazetteer.municipalities else None
        bounds = load_boundaries(conn, prefectures)
        geocoders: list[Geocoder] = []
        reader = GazetteerGeocoder(gazetteer_or_none, prefectures) if gazetteer_or_none else None
        if reader is not None:
            geocoders.append(reader)
        online = build_online(settings)
        geocoders.extend(online)
        chain = GeocodeChain(geocoders, PgGeocodeCache(conn), cache_from=[g.name for g in online])
        return cls(settings, gazetteer_or_none, bounds, chain, prefectures, reader=reader)

    # --- geocode stage -----------------------------------------------------------------------------

    def _address_code(self, shop: NormalizedShop) -> str | None:
        if self.gazetteer is None or not shop.address:
            return None
        if self.reader is not None:
            return self.reader.locate(shop.address).municipality_code
        return self.gazetteer.locate(shop.address, self.prefecture_hint).municipality_code

    def _distance_to(self, code: str, lat: float, lng: float) -> float | None:
        """Metres from the point to the municipality (a designated city: to the nearest of its wards)."""
        if self.boundaries is None:
            return None
        codes = [code]
        if code not in self.boundaries.by_code and self.gazetteer is not None:
            codes = [c for c, m in self.gazetteer.municipalities.items() if m.parent == code]
        distances = [d for c in codes if (d := self.boundaries.distance_m(c, lat, lng)) is not None]
        return min(distances) if distances else None

    def _point_code(self, lat: float, lng: float) -> str | None:
        if self.boundaries is None:
            return None
        hit = self.boundaries.locate(lat, lng, self.settings.boundary_tolerance_m)
        return hit.code if hit else None

    def _lookup(self, shop: NormalizedShop) -> GeocodeResult | None:
        if self.chain is None or not shop.address:
            return None
        return self.chain.geocode(shop.address)

    def geocode(self, shop: NormalizedShop) -> GeocodedShop:
        read_code = self._address_code(shop)
        address_code = shop.municipality_code or read_code
        check = check_point(shop.lat, shop.lng)
        flags = [*shop.flags]
        if (
            shop.municipality_code
            and read_code
            and not _same_place(shop.municipality_code, read_code, self.gazetteer)
        ):
            # The file's code wins for jurisdiction, but the disagreement is shown with both values.
            flags += ["municipality_code_disagrees_with_address", f"address_municipality:{read_code}"]
        if check.ok and check.lat is not None and check.lng is not None:
            lat, lng = check.lat, check.lng
            flags.extend(str(f) for f in check.flags)
            point_code = self._point_code(lat, lng)
            distance = self._distance_to(address_code, lat, lng) if address_code else None
            if distance is not None and distance > self.settings.boundary_tolerance_m:
                flags += ["municipality_mismatch", f"point_municipality:{point_code or 'none'}"]
                if distance > self.settings.source_far_m:
                    better = self._lookup(shop)
                    if better is not None and rank(better.precision) <= rank("town"):
                        self.stats["source_point_replaced"] += 1
                        return self._placed(shop, better, [*flags, "source_point_far_replaced"], address_code)
                    flags.append("source_point_far_review")
            self.stats["source"] += 1
            return GeocodedShop(shop, lat, lng, "source", "source", tuple(flags), address_code, point_code)
        if check.problem is not None and check.problem is not PointProblem.MISSING:
            flags.append(f"source_point_{check.problem.value}")
        result = self._lookup(shop)
        if result is None:
            self.stats["pending"] += 1
            return GeocodedShop(shop, None, None, None, None, tuple(flags), address_code)
        return self._placed(shop, result, flags, address_code)

    def _placed(
        self, shop: NormalizedShop, result: GeocodeResult, flags: list[str], address_code: str | None
    ) -> GeocodedShop:
        self.stats[result.precision] += 1
        if rank(result.precision) > rank("town"):
            # Never dressed up: a municipality-level point is stored and reported as such.
            flags.append(f"{result.precision}_precision_only")
        point_code = self._point_code(result.lat, result.lng)
        code = address_code or result.municipality_code
        if (
            result.geocoder != "gazetteer"
            and code
            and point_code
            and not _same_place(code, point_code, self.gazetteer)
        ):
            flags += ["municipality_mismatch", f"point_municipality:{point_code}"]
        return GeocodedShop(
            shop, result.lat, result.lng, result.precision, result.geocoder, tuple(flags), code, point_code
        )

    # --- jurisdiction stage ------------------------------------------------------------------------

    def decide(self, shop: GeocodedShop, programme: Programme) -> Jurisdiction | Rejection:
        return decide(shop, programme)


def _same_place(a: str, b: str, gazetteer: Gazetteer | None) -> bool:
    if a == b:
        return True
    if gazetteer is None:
        return False
    ma, mb = gazetteer.municipalities.get(a), gazetteer.municipalities.get(b)
    return bool((ma and ma.parent == b) or (mb and mb.parent == a))
