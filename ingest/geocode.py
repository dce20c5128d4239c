"""The geocode stage. The foundation trusts plausible source coordinates; otherwise the shop waits."""

from __future__ import annotations

from geo.coords import PointProblem, check_point
from ingest.models import GeocodedShop, NormalizedShop


def geocode(shop: NormalizedShop) -> GeocodedShop:
    check = check_point(shop.lat, shop.lng)
    if check.ok:
        return GeocodedShop(
            shop=shop,
            lat=check.lat,
            lng=check.lng,
            precision="source",
            geocoder="source",
            location_flags=tuple(str(f) for f in check.flags) + shop.flags,
        )
    flags = shop.flags
    if check.problem is not None and check.problem is not PointProblem.MISSING:
        # The file had a point we could not trust: keep the shop, say why it waits.
        flags = (*flags, f"source_point_{check.problem.value}")
    return GeocodedShop(shop=shop, lat=None, lng=None, precision=None, geocoder=None, location_flags=flags)
