"""A minimal synthetic shop generator for the API bench (until the search bench's generator is merged).

Places shops at the shared gazetteer's town points (jittered by up to ~300 m), so density follows where
people live, and loads them with COPY. Only the columns the public API reads are filled realistically.

    python -m bench.api_synth --url postgresql://postgres@127.0.0.1:54307/kosodate_bench --shops 1000000
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import random
import time
from pathlib import Path

import psycopg

from geo.text import fold
from search.keys import copy_text, name_codes, text_codes

PROJECT = Path(__file__).resolve().parent.parent
TOWNS = PROJECT.parent / "shared" / "data" / "gazetteer" / "towns_geolonia.csv"
CATEGORIES = ("discount", "consideration", "facility")
AMENITIES = ("nursing_room", "diaper_changing", "hot_water", "kids_corner", "kids_toilet")
KINDS = ("ベーカリー", "カフェ", "書店", "薬局", "ラーメン", "美容室", "スーパー", "写真館", "寿司", "眼鏡店")
PERKS = (
    "ドリンク10%割引",
    "ミルク用のお湯を提供",
    "授乳スペースあり",
    "お子様にお菓子プレゼント",
    "ポイント2倍",
)
COLUMNS = (
    "programme_id, source, source_id, name, name_key, address, prefecture, municipality, town, perk_text, "
    "categories, amenities, card_required, municipality_code, location, geocode_precision, geocode_source, "
    "registered_on, status, content_hash, name_codes, address_codes"
)


def towns(path: Path = TOWNS) -> list[tuple[str, str, str, float, float, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return [
            (r["prefecture"], r["city"], r["town"], float(r["lat"]), float(r["lng"]), r["city_code_n03"])
            for r in csv.DictReader(f)
            if r["lat"] and r["lng"] and r["city_code_n03"]
        ]


def load(url: str, n: int, seed: int = 1) -> float:
    rng = random.Random(seed)
    places = towns()
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=False) as conn:
        ids = []
        for code, name in (
            ("kanagawa", "かながわ子育て応援パスポート"),
            ("aichi", "はぐみんカード"),
            ("bench", "bench"),
        ):
            row = conn.execute(
                "INSERT INTO programmes (code, name) VALUES (%s, %s) ON CONFLICT (code) DO UPDATE "
                "SET name = excluded.name RETURNING id",
                (code, name),
            ).fetchone()
            assert row is not None
            ids.append(row[0])
        with conn.cursor().copy(f"COPY shops ({COLUMNS}) FROM STDIN") as copy:
            for i in range(n):
                pref, city, town, lat, lng, code = rng.choice(places)
                lat += rng.uniform(-0.0027, 0.0027)
                lng += rng.uniform(-0.0033, 0.0033)
                name = f"{rng.choice(KINDS)} {town}{i % 97}号店"
                address = f"{pref}{city}{town}{rng.randint(1, 30)}-{rng.randint(1, 20)}"
                cats = [c for c in CATEGORIES if rng.random() < 0.45] or ["discount"]
                amen = [a for a in AMENITIES if rng.random() < 0.2]
                copy.write_row(
                    (
                        rng.choice(ids),
                        "bench",
                        f"B{i:07d}",
                        name,
                        name,
                        address,
                        pref,
                        city,
                        town,
                        rng.choice(PERKS),
                        cats,
                        amen,
                        rng.random() < 0.7,
                        code,
                        f"SRID=4326;POINT({lng:.7f} {lat:.7f})",
                        "town",
                        "bench",
                        "2025-04-01",
                        "active",
                        hashlib.md5(str(i).encode(), usedforsecurity=False).hexdigest(),
                        copy_text(name_codes(name)),
                        copy_text(text_codes(fold(pref + city + address))),
                    )
                )
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE shops")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--shops", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"loaded {args.shops} shops in {load(args.url, args.shops, args.seed):.1f}s")


if __name__ == "__main__":
    main()
