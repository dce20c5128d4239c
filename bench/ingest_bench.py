"""Ingest throughput and memory, per stage and end to end, beside a reference run (csv + COPY).

Synthesises realistic registry rows from the shared data (real shop names and perk texts from the
Ishikawa, Matsudo and Tokyo files; real town names and points from the gazetteer, so every row has a
prefecture, city, town, block number, building, phone, postal code and coordinates), writes them as a
canonical CSV, and measures at two sizes, each size in its own process so peak RSS is that size's own:

* ``read``: file -> RawRow (sniffing, CSV parsing, profile mapping)
* ``normalise``: + NormalizedShop (NFKC, phones, postal codes, URLs)
* ``tag``: + geocode (source point checks) + jurisdiction + tags (no database)
* ``ingest``: ``ingest_file`` end to end into a fresh migrated database (COPY + merge), then a second
  run of the same file (everything unchanged)
* ``ingest_with_kana``: the same, for a file that carries its own readings (名称_カナ), so no reading
  is made: the pipeline without pykakasi
* ``reference``: plain ``csv.reader`` + ``COPY`` of the same rows into an unlogged table

Run (needs the embedded cluster, e.g. after ``kosodate db up``):

    KOSODATE_DB_PORT=54303 KOSODATE_DB_DATA_DIR=.data nice .venv/bin/python bench/ingest_bench.py \
        --sizes 20000,100000 --repeat 3

The load's hot modules run compiled when ``make compile`` has built them (each result says so:
``compiled``); ``KOSODATE_PURE_PYTHON=1`` runs them as Python, for an A/B of the two.

Results go to ``bench/results/ingest_bench.json`` (and are printed).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
SHARED = PROJECT.parent / "shared" / "data"
sys.path.insert(0, str(PROJECT))

import tomllib  # noqa: E402

from geo._compiled import build_in_use  # noqa: E402
from geo.reading import reading  # noqa: E402
from ingest.locate import Locator  # noqa: E402
from ingest.normalize import normalize  # noqa: E402
from ingest.pipeline import ingest_file  # noqa: E402
from ingest.programmes import parse_programme  # noqa: E402
from ingest.read import open_registry, read_rows  # noqa: E402
from ingest.tag import tag  # noqa: E402
from search.db import sync_engine  # noqa: E402
from search.embedded import EmbeddedCluster  # noqa: E402
from search.migrate import upgrade  # noqa: E402
from search.settings import DbSettings  # noqa: E402

COLUMNS = (
    "source_id", "name", "address", "building", "postal_code", "phone", "url", "hours", "closed_days",
    "perk_text", "lat", "lng", "registered_on",
)  # fmt: skip
PROGRAMME_TOML = 'code = "bench"\nname = "ベンチマーク"\nprefectures = []\n'


def _shared_names() -> tuple[list[str], list[str]]:
    names: list[str] = []
    perks: list[str] = []
    with (SHARED / "shops" / "ishikawa_prepass_2017_shared.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            names.append(row["shop_name"])
            perks.append(row["privilege_three_children"] or row["privilege_two_children"])
    with (SHARED / "shops" / "matsudo_mirai_card_2017.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            names.append(row["name"])
            perks.append(row["service"])
    data = json.loads((SHARED / "facilities" / "tokyo_akachan_flat.geojson").read_text(encoding="utf-8"))
    names += [f["properties"]["name"] for f in data["features"]]
    return [n for n in names if n.strip()], [p for p in perks if p.strip()]


def _towns(limit: int, rng: random.Random) -> list[tuple[str, str, str, float, float]]:
    with (SHARED / "gazetteer" / "towns_geolonia.csv").open(encoding="utf-8") as fh:
        rows = [
            (r["prefecture"], r["city"], r["town"], float(r["lat"]), float(r["lng"]))
            for r in csv.DictReader(fh)
            if r["lat"] and r["lng"]
        ]
    rng.shuffle(rows)
    return rows[:limit]


def synthesise(path: Path, n: int, seed: int = 7, *, with_kana: bool = False) -> None:
    """Write ``n`` canonical rows; the same seed gives the same file. ``with_kana``: the file carries
    its own readings (as 自治体標準 files do in 名称_カナ), made here from the real names and the
    branch's town: the reading of the whole name."""
    rng = random.Random(seed)
    names, perks = _shared_names()
    kana = [reading(name) for name in names] if with_kana else []
    towns = _towns(50_000, rng)
    town_kana: dict[str, str] = {}  # a branch's reading: the town's, made once per town
    digits = "０１２３４５６７８９"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow((*COLUMNS, "name_kana") if with_kana else COLUMNS)
        for i in range(n):
            pref, city, town, lat, lng = towns[i % len(towns)]
            block = f"{rng.randint(1, 30)}-{rng.randint(1, 20)}"
            if i % 5 == 0:  # a fifth typed with full-width digits, as in the real files
                block = block.translate(str.maketrans("0123456789-", digits + "－"))
            name = f"{names[i % len(names)]} {town}店" if i >= len(names) else names[i]
            extra = []
            if with_kana:  # the reading of the whole name, the branch's town and 店 included
                if i < len(names):
                    extra = [kana[i]]
                else:
                    if town not in town_kana:
                        town_kana[town] = reading(town)
                    extra = [f"{kana[i % len(kana)]} {town_kana[town]}てん"]
            writer.writerow(
                [
                    f"B{i:07d}", name, f"{pref}{city}{town}{block}",
                    f"{town}ビル{rng.randint(1, 9)}F" if i % 3 == 0 else "",
                    f"{rng.randint(100, 999)}-{rng.randint(0, 9999):04d}",
                    f"0{rng.randint(10, 99)}-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
                    f"https://shop{i}.example.jp/" if i % 4 == 0 else "",
                    "10:00〜19:00", "水曜日", perks[i % len(perks)],
                    f"{lat + rng.uniform(-0.002, 0.002):.6f}", f"{lng + rng.uniform(-0.002, 0.002):.6f}",
                    date(2020 + i % 6, 1 + i % 12, 1 + i % 28).isoformat(),
                    *extra,
                ]
            )  # fmt: skip


def _peak_mb() -> float:
    """This process's own peak RSS. VmHWM starts afresh at exec; ru_maxrss would carry the parent's
    peak over into the child (Linux keeps it across fork + exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(fn: Callable[[], int]) -> tuple[float, int]:
    start = time.perf_counter()
    rows = fn()
    return time.perf_counter() - start, rows


TICK = os.sysconf("SC_CLK_TCK")  # clock ticks a second in /proc/<pid>/stat


def process_cpu_s(pid: int) -> float:
    """CPU seconds one live process has used (user + system), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def cluster_processes(pgdata: Path) -> tuple[int, dict[int, list[str]]]:
    """The cluster's postmaster and every live process it started or is (pid -> the fields of
    /proc/<pid>/stat after the command name: state, ppid, ...; utime and stime are [11] and [12])."""
    postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        pid = int(stat.parent.name)
        if pid == postmaster or int(fields[1]) == postmaster:
            found[pid] = fields
    return postmaster, found


def _postgres_cpu_s(pgdata: Path) -> float:
    """CPU seconds the cluster has used: the postmaster with its exited children, and its live
    children (backends, checkpointer, WAL writer), from /proc."""
    postmaster, processes = cluster_processes(pgdata)
    total = 0
    for pid, fields in processes.items():
        last = 15 if pid == postmaster else 13  # the postmaster's own and its exited children's
        total += sum(int(f) for f in fields[11:last])  # utime, stime (, cutime, cstime)
    return total / TICK


def _cpu_split(fn: Callable[[], int], pgdata: Path) -> tuple[float, int, dict[str, float]]:
    """``_timed`` plus the CPU seconds this process and the database used meanwhile: two busy
    sides on two cores is what bounds a load."""
    own, pg = resource.getrusage(resource.RUSAGE_SELF), _postgres_cpu_s(pgdata)
    seconds, rows = _timed(fn)
    after = resource.getrusage(resource.RUSAGE_SELF)
    python_s = after.ru_utime + after.ru_stime - own.ru_utime - own.ru_stime
    return seconds, rows, {"python": round(python_s, 1), "postgres": round(_postgres_cpu_s(pgdata) - pg, 1)}


def _fresh_database() -> tuple[Any, str]:

    base = DbSettings()
    if not base.embedded:
        raise SystemExit(
            "the benchmark creates its own databases: use the embedded cluster (no KOSODATE_DATABASE_URL)"
        )
    cluster = EmbeddedCluster(base)
    cluster.start()
    name = f"bench_{uuid.uuid4().hex[:10]}"
    cluster.create_database(name)
    settings = base.model_copy(update={"name": name, "statement_timeout_ms": 600_000})
    upgrade(settings.sqlalchemy_url())
    return (cluster, settings), name


def worker(stage: str, path: Path) -> dict[str, Any]:  # noqa: PLR0915 - one branch per stage

    programme = parse_programme(tomllib.loads(PROGRAMME_TOML), "bench")
    out: dict[str, Any] = {"stage": stage}
    if stage == "read":
        out["seconds"], out["rows"] = _timed(lambda: sum(1 for _ in read_rows(open_registry(path))))
    elif stage == "normalise":
        out["seconds"], out["rows"] = _timed(
            lambda: sum(1 for r in read_rows(open_registry(path)) if normalize(r) is not None)
        )
    elif stage == "tag":

        def run() -> int:
            n = 0
            locator = Locator()  # the pipeline's geocode stage without gazetteer data: source points
            for raw in read_rows(open_registry(path)):
                shop = normalize(raw)
                if isinstance(shop, type(None)) or not hasattr(shop, "source_id"):
                    continue
                located = locator.geocode(shop)  # type: ignore[arg-type]
                where = locator.decide(located, programme)
                if hasattr(where, "municipality_code"):
                    tag(located, programme, 1, raw.flags, where)  # type: ignore[arg-type]
                n += 1
            return n

        out["seconds"], out["rows"] = _timed(run)
    elif stage in {"ingest", "reference"}:
        (cluster, settings), name = _fresh_database()
        engine = sync_engine(settings)
        try:
            if stage == "ingest":
                first: dict[str, Any] = {}

                def once() -> int:
                    s = ingest_file(engine, path, programme)
                    first.setdefault("summary", s.as_dict())
                    return s.rows

                out["seconds"], out["rows"], out["cpu_s"] = _cpu_split(once, cluster.pgdata)
                out["first_run"] = {k: first["summary"][k] for k in ("loaded", "rejected", "pending_geocode")}
                out["rerun_seconds"], _ = _timed(lambda: ingest_file(engine, path, programme).unchanged)
            else:

                def reference() -> int:
                    n = 0
                    with engine.begin() as conn:
                        raw = conn.connection.driver_connection
                        assert raw is not None
                        with raw.cursor() as cur:
                            cur.execute(
                                "CREATE UNLOGGED TABLE ref_rows ("
                                + ", ".join(f"{c} text" for c in COLUMNS)
                                + ")"
                            )
                            with (
                                path.open(encoding="utf-8", newline="") as fh,
                                cur.copy(f"COPY ref_rows ({', '.join(COLUMNS)}) FROM STDIN") as copy,
                            ):
                                reader = csv.reader(fh)
                                next(reader)
                                for row in reader:
                                    copy.write_row(row)
                                    n += 1
                    return n

                out["seconds"], out["rows"] = _timed(reference)
        finally:
            engine.dispose()
            cluster.drop_database(name)
    out["rows_per_s"] = round(out["rows"] / out["seconds"]) if out["seconds"] else None
    out["peak_rss_mb"] = round(_peak_mb(), 1)
    out["compiled"] = build_in_use() is not None  # the hot modules' mypyc build (make compile)
    return out


def _spawn(stage: str, path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", stage, str(path)],
        capture_output=True, text=True, check=False, timeout=1800,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"{stage} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sizes", default="20000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--worker", nargs=2, metavar=("STAGE", "FILE"))
    parser.add_argument("--stages", default="", help="comma-separated subset of the stages")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "ingest_bench.json")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], Path(args.worker[1]))))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict[str, Any] = {
        "command": " ".join(sys.argv),
        "repeat": args.repeat,
        "load_average_at_start": os.getloadavg(),
        "cpus": os.cpu_count(),
        "sizes": {},
    }
    tmp = Path(tempfile.mkdtemp(prefix="kosodate-bench-"))
    try:
        for size in sizes:
            path = tmp / f"shops_{size}.csv"
            synthesise(path, size)
            kana_path = tmp / f"shops_{size}_kana.csv"
            synthesise(kana_path, size, with_kana=True)
            per_stage: dict[str, Any] = {"file_mb": round(path.stat().st_size / 2**20, 1)}
            stages = ("reference", "read", "normalise", "tag", "ingest_with_kana", "ingest")
            for stage in args.stages.split(",") if args.stages else stages:
                source = kana_path if stage == "ingest_with_kana" else path
                load_before = os.getloadavg()[0]
                runs = [_spawn(stage.replace("_with_kana", ""), source) for _ in range(args.repeat)]
                seconds = statistics.median(r["seconds"] for r in runs)
                entry: dict[str, Any] = {
                    "median_s": round(seconds, 3),
                    "rows_per_s": round(size / seconds),
                    "runs_s": [round(r["seconds"], 2) for r in runs],
                    "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
                    "load_1min_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                    "compiled": runs[0]["compiled"],
                }
                if stage.startswith("ingest"):
                    entry["rerun_median_s"] = round(statistics.median(r["rerun_seconds"] for r in runs), 3)
                    entry["rerun_rows_per_s"] = round(size / entry["rerun_median_s"])
                    entry["first_run"] = runs[0]["first_run"]
                    entry["first_run_cpu_s"] = runs[0]["cpu_s"]  # python (both threads), postgres
                per_stage[stage] = entry
                print(f"{size:>8} {stage:<10} {entry}", flush=True)
            if "reference" in per_stage:
                ref = per_stage["reference"]["median_s"]
                for stage in ("ingest", "ingest_with_kana"):
                    if stage in per_stage:
                        per_stage[f"{stage}_vs_reference"] = round(per_stage[stage]["median_s"] / ref, 1)
            if "tag" in per_stage:  # the Python stages alone: what overlapping with the database can hide
                tag_s = per_stage["tag"]["median_s"]
                for stage in ("ingest", "ingest_with_kana"):
                    if stage in per_stage:
                        per_stage[f"{stage}_vs_tag"] = round(per_stage[stage]["median_s"] / tag_s, 2)
            results["sizes"][str(size)] = per_stage
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    finally:
        for file in tmp.iterdir():
            file.unlink()
        tmp.rmdir()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(results, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
