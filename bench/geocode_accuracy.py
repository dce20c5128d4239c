"""Offline geocoding accuracy on the shared Ishikawa files, against the publisher's coordinates.

The publisher's points are stripped; each address is read by the offline gazetteer (town level, or
block level when ``--blocks FILE`` adds MLIT 街区 data) and compared. Municipality agreement is judged
against point-in-polygon of the publisher's point (N03, 1 % simplified, 1 km tolerance). The reference
timing in the same run is a plain dictionary lookup of each address's town name (the floor for any
matcher that reads the address at all), so the addresses/s figure has something beside it.

    nice .venv/bin/python bench/geocode_accuracy.py [--shared ../shared/data] [--out bench/results]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import platform
import statistics
import time
from pathlib import Path

from geo.address import split_address
from geo.boundaries import Boundaries, merge_areas, read_n03
from geo.coords import check_point
from geo.gazetteer import Gazetteer
from geo.gazetteer_files import read_municipalities, read_towns
from geo.geocoding import GazetteerGeocoder, GeocodeChain
from geo.settings import GeocoderSettings
from ingest.locate import Locator
from ingest.models import NormalizedShop

REPEATS = 5


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def rows_2014(path: Path) -> list[tuple[str, float, float]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)  # title row
        header = next(reader)
        out = []
        for record in reader:
            r = dict(zip(header, record, strict=False))
            check = check_point(r["緯度"], r["経度"])  # three rows are swapped; repaired here
            if check.ok and check.lat is not None and check.lng is not None and r["住所１２３"].strip():
                out.append((r["住所１２３"] + " " + r["住所４"], check.lat, check.lng))
    return out


def rows_2017(path: Path) -> list[tuple[str, float, float]]:
    with path.open(encoding="utf-8", newline="") as fh:
        out = []
        for r in csv.DictReader(fh):
            check = check_point(r["lat"], r["lon"])
            if check.ok and check.lat is not None and check.lng is not None and r["address"].strip():
                out.append((r["address"] + " " + r["building_address"], check.lat, check.lng))
    return out


def evaluate(
    name: str, rows: list[tuple[str, float, float]], gaz: Gazetteer, bounds: Boundaries
) -> dict[str, object]:
    results = [gaz.locate(address) for address, _, _ in rows]
    # Reference: split the address without data and look its municipality up in a dict (no folding,
    # no town match): the cheapest possible reading of the same addresses. Alternated, median of 5.
    lookup = {m.name: m.code for m in gaz.municipalities.values()}
    ours, reference = [], []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for address, _, _ in rows:
            gaz.locate(address)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        for address, _, _ in rows:
            lookup.get(split_address(address).municipality or "")
        reference.append(time.perf_counter() - start)
    elapsed, ref_elapsed = statistics.median(ours), statistics.median(reference)

    n = len(rows)
    dists: list[float] = []
    within = dict.fromkeys((500, 1000, 2000), 0)
    precision: dict[str, int] = {}
    muni_ok = muni_known = wrong_pref = 0
    misses: list[str] = []
    for (address, lat, lng), got in zip(rows, results, strict=True):
        key = got.precision or "none"
        precision[key] = precision.get(key, 0) + 1
        if got.lat is None or got.lng is None:
            misses.append(address)
            continue
        d = haversine_m(lat, lng, got.lat, got.lng)
        dists.append(d)
        for limit in within:
            if d <= limit:
                within[limit] += 1
        truth = bounds.locate(lat, lng, 1000)
        publisher_pref = int(truth.code[:2]) if truth else None
        if publisher_pref is not None and got.prefecture_code != publisher_pref:
            wrong_pref += 1
        if truth is not None:
            muni_known += 1
            muni_ok += int(truth.code == got.municipality_code)
        if got.precision not in ("town", "block"):
            misses.append(address)
    town_matched = precision.get("town", 0) + precision.get("block", 0)
    return {
        "file": name,
        "addresses": n,
        "town_or_better": town_matched,
        "town_or_better_share": round(town_matched / n, 4),
        "precision_counts": precision,
        "within_500m": round(within[500] / n, 4),
        "within_1km": round(within[1000] / n, 4),
        "within_2km": round(within[2000] / n, 4),
        "median_error_m": round(statistics.median(dists), 1) if dists else None,
        "municipality_agreement": round(muni_ok / muni_known, 4) if muni_known else None,
        "municipality_checked": muni_known,
        "left_at_municipality_precision": precision.get("municipality", 0),
        "wrong_prefecture": wrong_pref,
        "addresses_per_s_median": round(n / elapsed),
        "addresses_per_s_runs": [round(n / t) for t in ours],
        "reference_split_lookup_per_s": round(n / ref_elapsed),
        "ratio_to_reference": round((n / elapsed) / (n / ref_elapsed), 3),
        "not_town_examples": misses[:15],
    }


def _shop(i: int, address: str, lat: float | None, lng: float | None) -> NormalizedShop:
    return NormalizedShop(
        line=i, source="bench", source_id=str(i), name="x", name_kana=None, address=address, building=None,
        postal_code=None, phone=None, url=None, hours=None, closed_days=None, perk_text=None,
        municipality_code=None, declared_categories=(), declared_amenities=(), flags=(),
        lat=None if lat is None else str(lat), lng=None if lng is None else str(lng), registered_on=None,
    )  # fmt: skip


def stage_rate(rows: list[tuple[str, float, float]], gaz: Gazetteer, bounds: Boundaries) -> dict[str, object]:
    """The pipeline's whole geocode stage per shop (``Locator.geocode``), with and without source points.

    Without points: address reading + town match + point-in-polygon of the result. With points: the
    plausibility check (distance to the address's municipality polygon). Fresh locator per repeat.
    """
    out: dict[str, object] = {}
    for label, keep_point in (("stage_stripped_per_s", False), ("stage_with_source_point_per_s", True)):
        shops = [
            _shop(i, a, lat if keep_point else None, lng if keep_point else None)
            for i, (a, lat, lng) in enumerate(rows)
        ]
        times = []
        flags: dict[str, int] = {}
        for _ in range(REPEATS):
            reader = GazetteerGeocoder(gaz, (17,))
            locator = Locator(
                GeocoderSettings(online=""), gaz, bounds, GeocodeChain([reader]), (17,), reader=reader
            )
            start = time.perf_counter()
            placed = [locator.geocode(s) for s in shops]
            times.append(time.perf_counter() - start)
        for p in placed:
            for f in p.location_flags:
                flags[f] = flags.get(f, 0) + 1
        out[label] = round(len(shops) / statistics.median(times))
        out[label.replace("_per_s", "_flags")] = flags
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    parser.add_argument("--blocks", type=Path, default=None, help="MLIT 街区レベル CSV to add (optional)")
    args = parser.parse_args()
    shared: Path = args.shared

    t0 = time.perf_counter()
    gaz = Gazetteer()
    gaz.add_municipalities(read_municipalities(shared / "gazetteer" / "municipalities_localgovjp.csv"))
    towns = gaz.add_towns(read_towns(shared / "gazetteer" / "towns_geolonia.csv"))
    if args.blocks:
        gaz.add_towns(read_towns(args.blocks, resolve=gaz.code_for_name))
    load_s = time.perf_counter() - t0
    areas = [*read_n03(shared / "boundaries" / "N03-21_17_210101_s0010.geojson")]
    areas += read_n03(shared / "boundaries" / "N03-21_23_210101_s0010.geojson")
    bounds = Boundaries(merge_areas(areas))

    shops = shared / "shops"
    report = {
        "command": "nice .venv/bin/python bench/geocode_accuracy.py",
        "machine": f"{platform.machine()} python {platform.python_version()}",
        "gazetteer": {"town_rows": towns, "load_s": round(load_s, 2), "blocks": str(args.blocks or "")},
        "results": [
            evaluate(
                "ishikawa_prepass_2014_raw",
                rows_2014(shops / "ishikawa_prepass_2014_raw_shared.csv"),
                gaz,
                bounds,
            ),
            evaluate(
                "ishikawa_prepass_2017", rows_2017(shops / "ishikawa_prepass_2017_shared.csv"), gaz, bounds
            ),
        ],
        "pipeline_stage_2017": stage_rate(rows_2017(shops / "ishikawa_prepass_2017_shared.csv"), gaz, bounds),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / "geocode_accuracy.json"
    target.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    lines = []
    for r in report["results"]:
        assert isinstance(r, dict)
        lines.append(
            f"{r['file']}: n={r['addresses']} town={r['town_or_better_share']:.2%} "
            f"500m={r['within_500m']:.2%} 1km={r['within_1km']:.2%} 2km={r['within_2km']:.2%} "
            f"muni={r['municipality_agreement']:.2%} at-muni={r['left_at_municipality_precision']} "
            f"wrong-pref={r['wrong_prefecture']} {r['addresses_per_s_median']}/s median of {REPEATS} "
            f"(reference split+dict lookup {r['reference_split_lookup_per_s']}/s, "
            f"ratio {r['ratio_to_reference']})"
        )
    stage = json.dumps(report["pipeline_stage_2017"], ensure_ascii=False)
    lines.append(f"pipeline geocode stage (2017 file, Locator.geocode): {stage}")
    (args.out / "geocode_accuracy.txt").write_text(
        "\n".join([str(report["command"]), *lines]) + "\n", encoding="utf-8"
    )
    print("\n".join(lines))
    print(f"saved {target}")


if __name__ == "__main__":
    main()
