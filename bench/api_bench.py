"""Public API speed on the 1M-shop database, side by side with tipg, and the database ceiling (pgbench).

One invocation runs, on the same machine and data, each for a bounded time at 8 connections (wrk):
  ours /collections/shops/items?bbox=..&limit=100  vs  tipg /collections/public.shops/items (same)
  ours  /v1/shops?lat=..&lng=..&radius_m=1000&limit=20 (radius search)  vs  tipg items over the
        circle's bounding box, limit=20 (tipg has no radius search; this is its nearest equivalent)
  pgbench with the SQL our bbox and radius endpoints run (the ceiling)
plus a full CSV export of every shop over HTTP and from the CLI, with the peak memory of each.

    python -m bench.api_bench --shops 1000000 --duration 10

The database is a project-managed cluster under .data/bench-pg (port 54307); tipg runs from its own
virtualenv (.data/tipg-venv: ``python -m venv .data/tipg-venv && .data/tipg-venv/bin/pip install
tipg 'uvicorn[standard]'``). Both servers: the same number of uvicorn workers (``--workers``, default 1),
access log off, loopback only. The database is loaded once (about 4 minutes for 1M shops) and reused
while it holds ``--shops`` rows; every run starts with VACUUM ANALYZE so plans and visibility maps do
not depend on whether autovacuum has come by yet. The bbox pair runs ``--rounds`` times (default 3),
alternating which server goes first; the ratio is the median round's. ``--skip-export`` leaves out the
1M-row exports.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy.dialects import postgresql

from bench.api_synth import load
from kosodate.asgi import app as asgi_app
from search.embedded import EmbeddedCluster
from search.features import ItemsQuery, items_page_sql
from search.migrate import upgrade
from search.queries import ShopQuery, shop_search
from search.settings import DbSettings

PROJECT = Path(__file__).resolve().parent.parent
RESULTS = PROJECT / "bench" / "results"
TIPG_VENV = PROJECT / ".data" / "tipg-venv"
DB_PORT, OURS_PORT, TIPG_PORT = 54307, 8070, 8071
# Map views (about 2 x 2 km, a phone map at zoom 14-15) over the larger cities.
CENTRES = [
    (35.6812, 139.7671),
    (35.4437, 139.6380),
    (35.3387, 139.4871),
    (35.1709, 136.8815),
    (34.7025, 135.4959),
    (43.0687, 141.3508),
    (33.5902, 130.4017),
    (34.3853, 132.4553),
    (38.2601, 140.8822),
    (36.5781, 136.6478),
    (35.0116, 135.7681),
    (34.6913, 135.1830),
    (35.5308, 139.7029),
    (35.8617, 139.6455),
    (35.6074, 140.1065),
]
HALF = 0.01
TIPG_VIEW = """
CREATE OR REPLACE VIEW tipg_shops AS
SELECT id, name, name_kana, address, building, phone, url, perk_text, categories, amenities, card_required,
       cards, municipality_code, lg_code, geocode_precision, geocode_source, registered_on, expires_on,
       updated_at, location
FROM shops WHERE status = 'active' AND location IS NOT NULL
"""
LIMIT = 100
RADIUS_M = 1000
# SERVER_SESSION: both servers start in their own sessions, as services do. With the kernel's autogroup
# scheduling (on here), a server started in this script's session shared one group's CPU share with wrk
# and this script, while PostgreSQL's backends had a group of their own. Runs 16 on use this.


# The server both benches run: the app `kosodate serve` runs, built from the environment (the name is
# kept for the commands recorded in bench/results).
ours_app = asgi_app


def bbox_of(lat: float, lng: float) -> tuple[float, float, float, float]:
    return (round(lng - HALF, 4), round(lat - HALF, 4), round(lng + HALF, 4), round(lat + HALF, 4))


def bbox_paths(prefix: str) -> list[str]:
    return [f"{prefix}?bbox={','.join(map(str, bbox_of(lat, lng)))}&limit={LIMIT}" for lat, lng in CENTRES]


def radius_box_paths(prefix: str) -> list[str]:
    """tipg's nearest equivalent of a radius search: the circle's bounding box, the same limit (20)."""
    paths = []
    for lat, lng in CENTRES:
        dlat = RADIUS_M / 111_320
        dlng = RADIUS_M / (111_320 * math.cos(math.radians(lat)))
        box = (round(lng - dlng, 5), round(lat - dlat, 5), round(lng + dlng, 5), round(lat + dlat, 5))
        paths.append(f"{prefix}?bbox={','.join(map(str, box))}&limit=20")
    return paths


def radius_paths() -> list[str]:
    return [f"/v1/shops?lat={lat}&lng={lng}&radius_m={RADIUS_M}&limit=20" for lat, lng in CENTRES]


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


def wrk(base: str, paths: list[str], duration: int, connections: int) -> dict[str, Any]:
    """wrk at fixed connections, cycling over the paths; returns req/s, p50, p99 and errors."""
    script = "paths = {" + ",".join(json.dumps(p) for p in paths) + "}\n"
    script += "i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format('GET', paths[i])\nend\n"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script)
    try:
        # a short warm-up, then the measured run
        subprocess.run(
            ["wrk", "-t2", f"-c{connections}", "-d2s", "-s", fh.name, base], capture_output=True, check=False
        )
        out = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", fh.name, base],
            capture_output=True,
            text=True,
            timeout=duration + 30,
            check=True,
        ).stdout
    finally:
        os.unlink(fh.name)

    def ms(label: str) -> float:
        m = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
        return round(float(m.group(1)) * scale, 2)

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = re.search(r"(\d+) requests in", out)
    return {
        "req_s": float(rps.group(1)) if rps else 0.0,
        "p50_ms": ms("50%"),
        "p99_ms": ms("99%"),
        "requests": int(total.group(1)) if total else 0,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def literal_sql(url: str, statement: Any, params: dict[str, Any]) -> str:
    """The exact SQL the API sends, with its values inlined (for pgbench)."""
    compiled = statement.compile(dialect=postgresql.dialect())  # type: ignore[no-untyped-call]
    values = dict(compiled.params) | params
    with psycopg.connect(url) as conn:
        return psycopg.ClientCursor(conn).mogrify(str(compiled), values)


def pgbench(
    url_parts: DbSettings, scripts: list[str], duration: int, connections: int, mode: str = "simple"
) -> dict[str, Any]:
    """pgbench with one script per query (chosen at random), per-transaction log for p50/p99.

    ``mode`` "prepared" plans each script once per connection, as the items route's pool does.
    """
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, body in enumerate(scripts):
            path = Path(tmp) / f"q{i}.sql"
            path.write_text(body.replace("\n", " ") + ";\n", encoding="utf-8")
            files += ["-f", f"{path}@1"]
        cmd = [
            "pgbench",
            "-n",
            "-h",
            url_parts.host,
            "-p",
            str(url_parts.port),
            "-U",
            url_parts.user,
            f"-c{connections}",
            "-j2",
            f"-T{duration}",
            "-M",
            mode,
            "-l",
            "--log-prefix",
            f"{tmp}/log",
            *files,
            url_parts.name,
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60, check=True).stdout
        latencies = []
        for log in Path(tmp).glob("log*"):
            for line in log.read_text().splitlines():
                parts = line.split()
                if len(parts) > 2:
                    latencies.append(int(parts[2]) / 1000)
    tps = re.search(r"tps = ([\d.]+)", out)
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 100 else [float("nan")] * 99
    return {"tps": float(tps.group(1)) if tps else 0.0, "p50_ms": round(q[49], 2), "p99_ms": round(q[98], 2)}


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def http_export(base: str, pid: int) -> dict[str, Any]:
    """Download the whole CSV while sampling the server's resident memory."""
    peak = baseline = rss_kb(pid)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_kb(pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    size = lines = 0
    with httpx.stream("GET", f"{base}/v1/exports/shops.csv", timeout=600) as r:
        r.raise_for_status()
        for chunk in r.iter_bytes():
            size += len(chunk)
            lines += chunk.count(b"\n")  # every record ends CRLF; no cell holds a newline here
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return {
        "seconds": round(seconds, 1),
        "mb": round(size / 1e6, 1),
        "rows": lines - 1,
        "server_rss_before_mb": round(baseline / 1024, 1),
        "server_rss_peak_mb": round(peak / 1024, 1),
    }


def cli_export(env: dict[str, str]) -> dict[str, Any]:
    """``kosodate export`` of every shop, with the peak memory of that process alone (``wait4``:
    RUSAGE_CHILDREN would report the largest child so far, e.g. a server the bench stopped)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "shops.csv"
        started = time.perf_counter()
        with (Path(tmp) / "stderr").open("w+b") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "kosodate", "export", "--format", "csv", "--out", str(out)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            if proc.returncode != 0:
                err.seek(0)
                raise SystemExit(f"kosodate export failed: {err.read().decode(errors='replace')}")
        seconds = time.perf_counter() - started
        size = out.stat().st_size
    return {
        "seconds": round(seconds, 1),
        "mb": round(size / 1e6, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }


def main() -> None:  # noqa: PLR0915 - one linear script
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shops", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="ours/tipg bbox pairs, alternating order")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers, the same for both servers")
    args = parser.parse_args()

    db = DbSettings(data_dir=PROJECT / ".data" / "bench-pg", port=DB_PORT, name="kosodate_bench")
    cluster = EmbeddedCluster(db)
    cluster.start()
    cluster.create_database()
    upgrade(db.sqlalchemy_url())
    url = db.sqlalchemy_url().replace("+psycopg", "")
    with psycopg.connect(url, autocommit=True) as conn:
        # tipg publishes a table or view as is. Our indexes cover live shops only (partial, status =
        # 'active'), so tipg gets a view of the live shops: the same rows we serve, and it can use them.
        # (On the bare table tipg scans all rows: 10-20 s per request here.)
        conn.execute(TIPG_VIEW)
    with psycopg.connect(url) as conn:
        have = conn.execute("SELECT count(*) FROM shops").fetchone()
    if not have or have[0] != args.shops:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("TRUNCATE shops, shop_changes CASCADE")
        print(f"loading {args.shops} shops ...", flush=True)
        print(f"loaded in {load(url, args.shops):.0f}s", flush=True)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) shops, programmes")

    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOSODATE_", "TIPG_", "DATABASE_"))}
    ours_env = env | {
        "KOSODATE_DATABASE_URL": url,
        "KOSODATE_API_MAX_LIMIT": "100",
        "KOSODATE_API_RATE_LIMIT_PER_MINUTE": "0",  # wrk is one client: measure serving, not the limiter
        "KOSODATE_DB_POOL_SIZE": str(args.connections),
    }
    tipg_env = env | {
        "DATABASE_URL": url,
        "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_DB_TABLES": '["public.tipg_shops"]',
        "TIPG_TABLE_CONFIG__public_tipg_shops__PK": "id",
        "TIPG_DB_MIN_CONN_SIZE": str(args.connections),
        "TIPG_DB_MAX_CONN_SIZE": str(args.connections),
    }
    common = [
        "--host",
        "127.0.0.1",
        "--workers",
        str(args.workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    ours = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "kosodate.asgi:app",
            "--port",
            str(OURS_PORT),
            *common,
        ],
        env=ours_env,
        cwd=PROJECT,
        start_new_session=True,  # a service's own session (see SERVER_SESSION)
    )
    tipg = subprocess.Popen(
        [str(TIPG_VENV / "bin" / "uvicorn"), "tipg.main:app", "--port", str(TIPG_PORT), *common],
        env=tipg_env,
        start_new_session=True,
    )
    results: dict[str, Any] = {
        "shops": args.shops,
        "duration_s": args.duration,
        "connections": args.connections,
        "workers": args.workers,
        "servers_in_own_session": True,
        "bbox_half_deg": HALF,
        "limit": LIMIT,
        "command": " ".join(["python -m bench.api_bench", *sys.argv[1:]]),
    }
    try:
        ours_base, tipg_base = f"http://127.0.0.1:{OURS_PORT}", f"http://127.0.0.1:{TIPG_PORT}"
        wait_http(f"{ours_base}/healthz")
        wait_http(f"{tipg_base}/collections")
        tipg_collections = httpx.get(f"{tipg_base}/collections", timeout=30).json()
        tipg_ids = [c["id"] for c in tipg_collections["collections"]]
        tipg_id = next(i for i in tipg_ids if i.endswith("tipg_shops"))
        sample_bbox = bbox_paths("")[0]
        ours_n = httpx.get(f"{ours_base}/collections/shops/items{sample_bbox}", timeout=30).json()[
            "numberReturned"
        ]
        tipg_n = httpx.get(f"{tipg_base}/collections/{tipg_id}/items{sample_bbox}", timeout=30).json()[
            "numberReturned"
        ]
        results["same_answer_sizes"] = {"ours": ours_n, "tipg": tipg_n}
        print(f"features per page: ours {ours_n}, tipg {tipg_n}", flush=True)

        # Rounds of the pair, alternating which server goes first, so a burst of load from another
        # job on this shared machine lands on both sides; the ratio reported is the median round's.
        ours_paths, tipg_paths = (
            bbox_paths("/collections/shops/items"),
            bbox_paths(f"/collections/{tipg_id}/items"),
        )
        rounds = []
        for n in range(args.rounds):
            pair: dict[str, Any] = {}
            for name in ("ours", "tipg") if n % 2 == 0 else ("tipg", "ours"):
                base, paths = (ours_base, ours_paths) if name == "ours" else (tipg_base, tipg_paths)
                pair[name] = wrk(base, paths, args.duration, args.connections)
                print(f"round {n + 1} {name} bbox", pair[name], flush=True)
            pair["ratio"] = round(pair["ours"]["req_s"] / max(pair["tipg"]["req_s"], 0.001), 2)
            rounds.append(pair)
        median_round = sorted(rounds, key=lambda r: r["ratio"])[len(rounds) // 2]
        results["bbox_rounds"] = rounds
        results["ours_bbox"], results["tipg_bbox"] = median_round["ours"], median_round["tipg"]
        results["ours_radius"] = wrk(ours_base, radius_paths(), args.duration, args.connections)
        print("ours radius", results["ours_radius"], flush=True)
        results["tipg_radius_box"] = wrk(
            tipg_base, radius_box_paths(f"/collections/{tipg_id}/items"), args.duration, args.connections
        )
        print("tipg, the radius's bounding box, limit 20", results["tipg_radius_box"], flush=True)
        results["ratio_radius_ours_vs_tipg_box"] = round(
            results["ours_radius"]["req_s"] / max(results["tipg_radius_box"]["req_s"], 0.001), 2
        )

        bbox_sql, radius_sql = [], []
        for lat, lng in CENTRES:
            sql, values = items_page_sql(ItemsQuery(bbox=bbox_of(lat, lng), limit=LIMIT), 10_000)
            with psycopg.connect(url) as conn:
                bbox_sql.append(psycopg.ClientCursor(conn).mogrify(sql, values))
            sq = ShopQuery(lat=lat, lng=lng, radius_m=RADIUS_M, limit=20)
            radius_sql.append(
                literal_sql(url, shop_search(sq), {"lat": lat, "lng": lng, "radius_m": RADIUS_M, "limit": 20})
            )
        results["pgbench_bbox"] = pgbench(db, bbox_sql, args.duration, args.connections)
        print("pgbench bbox", results["pgbench_bbox"], flush=True)
        results["pgbench_bbox_prepared"] = pgbench(db, bbox_sql, args.duration, args.connections, "prepared")
        print("pgbench bbox, planned once", results["pgbench_bbox_prepared"], flush=True)
        results["pgbench_radius"] = pgbench(db, radius_sql, args.duration, args.connections)
        print("pgbench radius", results["pgbench_radius"], flush=True)
        results["ratio_bbox_ours_vs_tipg"] = median_round["ratio"]
        if not args.skip_export:
            results["export_http"] = http_export(ours_base, ours.pid)
            print("export over HTTP", results["export_http"], flush=True)
            results["export_cli"] = cli_export(ours_env)
            print("export from CLI", results["export_cli"], flush=True)
    finally:
        for proc in (ours, tipg):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "api_bench.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    random.seed(1)
    main()
