"""Point-in-polygon jurisdiction against municipal boundaries (N03), with a tolerance for simplified coasts.

N03 polygons in ``../shared/data/boundaries`` are simplified: a point within ~100 m of a border may
fall on the wrong side or in the sea. ``Boundaries.locate`` therefore answers "inside" when it can and
otherwise snaps to the nearest polygon within ``tolerance_m``, saying which it did.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shapely import STRtree
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from geo.municipality import parse_code

_M_PER_DEG_LAT = 111_320.0


@dataclass(frozen=True, slots=True)
class Area:
    code: str
    prefecture: str
    name: str
    geometry: BaseGeometry


@dataclass(frozen=True, slots=True)
class Hit:
    code: str
    name: str
    inside: bool
    distance_m: float  # 0 when inside


class BoundaryFileError(ValueError):
    """Not an N03 GeoJSON file."""


def read_n03(path: Path) -> Iterator[Area]:
    """Municipality polygons from an N03 GeoJSON file; features without a code (所属未定地) are skipped."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise BoundaryFileError(f"{path}: not readable GeoJSON ({exc})") from exc
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise BoundaryFileError(f"{path}: no features")
    for feature in features:
        props: dict[str, Any] = feature.get("properties") or {}
        if "N03_001" not in props:
            raise BoundaryFileError(f"{path}: features lack N03 properties (N03_001, N03_007)")
        code = parse_code(props.get("N03_007"))
        if code is None or feature.get("geometry") is None:
            continue
        city, ward = props.get("N03_003") or "", props.get("N03_004") or ""
        name = city + ward if city.endswith("市") and ward.endswith("区") else ward
        yield Area(code, str(props["N03_001"]), name, shape(feature["geometry"]))


def merge_areas(areas: Iterable[Area]) -> list[Area]:
    """One geometry per code (N03 splits a municipality into many features, one per island)."""
    from shapely import union_all  # noqa: PLC0415 - only needed when loading files

    grouped: dict[str, list[Area]] = {}
    for area in areas:
        grouped.setdefault(area.code, []).append(area)
    return [
        Area(code, parts[0].prefecture, parts[0].name, union_all([p.geometry for p in parts]))
        for code, parts in grouped.items()
    ]


def _metres(dlat_deg: float, lat: float, dlng_deg: float) -> float:
    return math.hypot(dlat_deg * _M_PER_DEG_LAT, dlng_deg * _M_PER_DEG_LAT * math.cos(math.radians(lat)))


class Boundaries:
    """An STRtree over municipality polygons."""

    def __init__(self, areas: Iterable[Area]) -> None:
        self.areas = list(areas)
        self._tree = STRtree([a.geometry for a in self.areas])
        self.by_code = {a.code: a for a in self.areas}

    def __len__(self) -> int:
        return len(self.areas)

    def locate(self, lat: float, lng: float, tolerance_m: float = 1000.0) -> Hit | None:
        point = Point(lng, lat)
        inside = self._tree.query(point, predicate="intersects")
        if len(inside):
            # Overlaps only happen at shared edges; the first (lowest code) is as good as any.
            area = min((self.areas[int(i)] for i in inside), key=lambda a: a.code)
            return Hit(area.code, area.name, True, 0.0)
        nearest = self._tree.nearest(point)
        if nearest is None:
            return None
        area = self.areas[int(nearest)]
        distance = self.distance_m(area.code, lat, lng)
        if distance is None or distance > tolerance_m:
            return None
        return Hit(area.code, area.name, False, distance)

    def distance_m(self, code: str, lat: float, lng: float) -> float | None:
        """Metres from the point to the municipality's polygon (0 inside), or None if unknown."""
        area = self.by_code.get(code)
        if area is None:
            return None
        point = Point(lng, lat)
        if area.geometry.intersects(point):
            return 0.0
        from shapely.ops import nearest_points  # noqa: PLC0415

        near = nearest_points(area.geometry, point)[0]
        return _metres(near.y - lat, lat, near.x - lng)
