"""Plausibility checks for coordinates that arrive with a registry row."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

# Japan's extremes (Okinotorishima, Etorofu, Yonaguni, Minamitorishima) with a small margin.
# The latitude and longitude ranges do not overlap, so a swapped pair is always recognisable.
LAT_MIN, LAT_MAX = 20.0, 46.0
LNG_MIN, LNG_MAX = 122.0, 154.5


class PointFlag(StrEnum):
    SWAPPED = "swapped_latlng"


class PointProblem(StrEnum):
    MISSING = "missing"
    NOT_A_NUMBER = "not_a_number"
    OUTSIDE_JAPAN = "outside_japan"
    ONLY_ONE = "only_one_coordinate"


@dataclass(frozen=True, slots=True)
class PointCheck:
    """The verdict on a source point: a usable (lat, lng) with flags, or a problem."""

    lat: float | None
    lng: float | None
    flags: tuple[PointFlag, ...] = ()
    problem: PointProblem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None and self.lat is not None


def in_japan(lat: float, lng: float) -> bool:
    return LAT_MIN <= lat <= LAT_MAX and LNG_MIN <= lng <= LNG_MAX


def _parse(value: str | float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, float):
        return value
    text = value.strip()
    if not text:
        return None
    return float(text)


def check_point(lat_value: str | float | None, lng_value: str | float | None) -> PointCheck:  # noqa: PLR0911
    """Accept a point inside Japan, repair a swapped pair (flagged), refuse anything else."""
    try:
        lat, lng = _parse(lat_value), _parse(lng_value)
    except ValueError:
        return PointCheck(None, None, problem=PointProblem.NOT_A_NUMBER)
    if lat is None and lng is None:
        return PointCheck(None, None, problem=PointProblem.MISSING)
    if lat is None or lng is None:
        return PointCheck(None, None, problem=PointProblem.ONLY_ONE)
    if not (math.isfinite(lat) and math.isfinite(lng)):
        return PointCheck(None, None, problem=PointProblem.NOT_A_NUMBER)
    if lat == 0 and lng == 0:
        return PointCheck(None, None, problem=PointProblem.MISSING)
    if in_japan(lat, lng):
        return PointCheck(lat, lng)
    if in_japan(lng, lat):
        return PointCheck(lng, lat, flags=(PointFlag.SWAPPED,))
    return PointCheck(None, None, problem=PointProblem.OUTSIDE_JAPAN)
