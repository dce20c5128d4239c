"""Synthetic shops for benchmarks, loaded straight into ``shops`` with COPY (reusable by other benches).

Locations are sampled from the shared gazetteer (towns_geolonia.csv, jittered by up to ~300 m);
names and perk texts come from the shared shop lists (Ishikawa 2014/2017, Matsudo) and the sample
data, with a branch suffix made from a town name. Readings are computed once per distinct base name
and town (pykakasi), exactly as the load path does, so keys and search text match real rows.

    from bench.synth import BenchDb, load_synthetic
    with BenchDb(port=54306, data_dir=Path(".bench-data")) as db:
        load_synthetic(db.url, 1_000_000, seed=1)

Or: ``python -m bench.synth --shops 1000000`` (prints the database URL it filled).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any

import psycopg

from geo.reading import reading
from geo.text import fold, normalize_name, search_key
from search.embedded import EmbeddedCluster
from search.keys import copy_text, name_codes, name_romaji_key, text_codes
from search.migrate import upgrade
from search.settings import DbSettings

PROJECT = Path(__file__).resolve().parent.parent
SHARED = PROJECT.parent / "shared" / "data"
CATEGORIES = ("discount", "consideration", "facility")
AMENITIES = ("nursing_room", "diaper_changing", "hot_water", "kids_space", "stroller_ok", "kids_menu")
HOURS = ("10:00〜20:00", "9:00〜18:00", "11:00〜23:00", "7:00〜22:00", "", "24時間営業", "17:00〜24:00")
_BRANCH = re.compile(r"[\s　]+\S*(店|支店|教室|校|営業所|出張所)$")


@dataclass
class Vocabulary:
    names: list[str]
    perks: list[str]
    towns: list[tuple[str, str, str, float, float, str]]  # prefecture, city, town, lat, lng, city code


def _read_csv(path: Path, *, skip: int = 0) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        for _ in range(skip):
            next(f)
        return list(csv.DictReader(f))


def vocabulary(shared: Path = SHARED) -> Vocabulary:
    names: set[str] = set()
    perks: set[str] = set()
    shops = shared / "shops"
    for r in _read_csv(shops / "ishikawa_prepass_2017_shared.csv"):
        names.add(r["shop_name"])
        for key in ("privilege_two_children", "privilege_three_children", "pr_message"):
            if r.get(key):
                perks.add(r[key][:200])
    for r in _read_csv(shops / "ishikawa_prepass_2014_raw_shared.csv", skip=1):
        names.add(r.get("店舗・施設名") or "")
        perks.add((r.get("プレパス特典（協賛店のみ）") or "")[:200])
    for r in _read_csv(shops / "matsudo_mirai_card_2017.csv"):
        names.add(r["name"])
        perks.add(r["service"][:200])
    bases = sorted({_BRANCH.sub("", normalize_name(n)) for n in names if n and n.strip()} - {""})
    towns = [
        (r["prefecture"], r["city"], r["town"], float(r["lat"]), float(r["lng"]), r["city_code_n03"])
        for r in _read_csv(shared / "gazetteer" / "towns_geolonia.csv")
        if r["lat"] and r["lng"]
    ]
    return Vocabulary(bases, sorted(p for p in perks if p), towns)


@cache
def _reading(text: str) -> str:
    return reading(text)


def rows(vocab: Vocabulary, n: int, seed: int, programme_ids: dict[str, int]) -> Iterator[tuple[Any, ...]]:
    """``n`` synthetic rows in ``COLUMNS`` order."""
    rnd = random.Random(seed)
    branch_towns = rnd.sample(vocab.towns, min(20_000, len(vocab.towns)))
    for i in range(n):
        pref, city, town, lat, lng, code = rnd.choice(vocab.towns)
        base = rnd.choice(vocab.names)
        branch = rnd.choice(branch_towns)[2] if rnd.random() < 0.7 else ""
        name = f"{base} {branch}店" if branch else base
        kana = f"{_reading(base)} {_reading(branch)}てん" if branch else _reading(base)
        lat += rnd.uniform(-0.003, 0.003)
        lng += rnd.uniform(-0.003, 0.003)
        cats = sorted(rnd.sample(CATEGORIES, rnd.choice((1, 1, 1, 2, 3))))
        amen = sorted(rnd.sample(AMENITIES, rnd.choice((0, 0, 1, 2))))
        programme = f"pref{code[:2]}"
        card_required = rnd.random() > 0.1
        address = f"{pref}{city}{town}{rnd.randint(1, 9)}-{rnd.randint(1, 30)}"
        romaji = name_romaji_key_cached(base, branch)
        yield (
            programme_ids[programme], "bench", f"b{i}", name, kana, search_key(name), search_key(kana),
            address, pref, city, town,
            rnd.choice(vocab.perks), "{" + ",".join(cats) + "}", "{" + ",".join(amen) + "}",
            card_required, "{" + programme + "}", rnd.random() < 0.05, rnd.random() < 0.3,
            code, f"SRID=4326;POINT({lng:.6f} {lat:.6f})", "source", rnd.choice(HOURS) or None,
            hashlib.blake2b(f"{seed}:{i}".encode(), digest_size=16).hexdigest(),
            romaji, copy_text(name_codes(search_key(name), search_key(kana))),
            copy_text(text_codes(fold(pref + city + address))),
        )  # fmt: skip


@cache
def _romaji(text: str) -> str:
    return name_romaji_key(text, _reading(text))


def name_romaji_key_cached(base: str, branch: str) -> str:
    return _romaji(base) + (_romaji(branch) + "ten" if branch else "")


COLUMNS = (
    "programme_id", "source", "source_id", "name", "name_kana", "name_key", "kana_key", "address",
    "prefecture", "municipality", "town", "perk_text", "categories", "amenities", "card_required", "cards",
    "multi_child", "nationwide", "municipality_code", "location", "geocode_precision", "hours",
    "content_hash", "romaji_key", "name_codes", "address_codes",
)  # fmt: skip

# Indexes are dropped before the load and rebuilt after it (timed), from their own definitions.
SHOP_INDEXES_SQL = (
    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'shops' AND indexname NOT LIKE '%pkey' "
    "AND indexdef NOT LIKE '%UNIQUE%'"
)


def load_synthetic(url: str, n: int, *, seed: int = 1, vocab: Vocabulary | None = None) -> dict[str, Any]:
    """Fill ``shops`` with ``n`` synthetic rows; returns timings and index build times and sizes."""
    vocab = vocab or vocabulary()
    report: dict[str, Any] = {"shops": n, "seed": seed}
    with psycopg.connect(url, autocommit=True) as conn:
        prefs = sorted({t[5][:2] for t in vocab.towns})
        ids: dict[str, int] = {}
        for p in prefs:
            row = conn.execute(
                "INSERT INTO programmes (code, name) VALUES (%s, %s) ON CONFLICT (code) DO UPDATE "
                "SET name = excluded.name RETURNING id",
                (f"pref{p}", f"bench programme {p}"),
            ).fetchone()
            assert row is not None
            ids[f"pref{p}"] = int(row[0])
        indexes = conn.execute(SHOP_INDEXES_SQL).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX IF EXISTS "{name}"')
        started = time.monotonic()
        with conn.cursor() as cur, cur.copy(f"COPY shops ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for r in rows(vocab, n, seed, ids):
                copy.write_row(r)
        report["copy_s"] = round(time.monotonic() - started, 1)
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET max_parallel_maintenance_workers = 1")
        built: dict[str, dict[str, float]] = {}
        for name, definition in indexes:
            t0 = time.monotonic()
            conn.execute(definition)
            size = conn.execute("SELECT pg_relation_size(%s::regclass)", (name,)).fetchone()
            built[name] = {"build_s": round(time.monotonic() - t0, 1), "mb": round(int(size[0]) / 2**20, 1)}  # type: ignore[index]
        report["indexes"] = built
        t0 = time.monotonic()
        conn.execute("VACUUM ANALYZE shops")
        report["vacuum_analyze_s"] = round(time.monotonic() - t0, 1)
        size = conn.execute("SELECT pg_table_size('shops'), pg_indexes_size('shops')").fetchone()
        assert size is not None
        report["table_mb"], report["indexes_mb"] = round(size[0] / 2**20), round(size[1] / 2**20)
    return report


class BenchDb:
    """An embedded cluster of its own (own port and directory), with a migrated ``bench`` database."""

    def __init__(self, *, port: int = 54306, data_dir: Path = PROJECT / ".bench-data", name: str = "bench"):
        self.settings = DbSettings(data_dir=data_dir, port=port, name=name)
        self.cluster = EmbeddedCluster(self.settings, fast=True)
        self.name = name

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.settings.port}/{self.name}"

    def fresh(self) -> None:
        """Drop and recreate the database, migrated to the current heads."""
        self.cluster.drop_database(self.name)
        self.cluster.create_database(self.name)
        upgrade(self.settings.sqlalchemy_url())

    def __enter__(self) -> BenchDb:
        self.cluster.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shops", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=54306)
    parser.add_argument("--keep-running", action="store_true", help="leave the cluster running afterwards")
    args = parser.parse_args()
    db = BenchDb(port=args.port)
    db.cluster.start()
    try:
        db.fresh()
        print(load_synthetic(db.url, args.shops, seed=args.seed))
        print(db.url)
    finally:
        if not args.keep_running:
            db.cluster.stop()


if __name__ == "__main__":
    main()
