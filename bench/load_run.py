"""A bounded load run on loopback: the 1M-shop database, a mix of public requests, 8 then 32 connections.

    nice python -m bench.load_run --shops 1000000 --duration 60

8, then 32, then 8 connections again (the last run shows whether memory keeps growing once warm), then
each kind of request alone for a short run (where the time goes).

The database is api_bench's (.data/bench-pg, port 54307; loaded once by ``python -m bench.load_db``). The
request mix is drawn from real rows over many municipalities: radius searches, keyword searches (a place and
a kind of shop, or a kind of shop near a point), map areas (OGC items by bbox), vector tiles (z11-15, the
clustered and the plain layer) and shop details (both the search API's and the OGC feature). wrk picks a
path at random for every request (a Lua script over the generated list).

One uvicorn process, one worker, access log off, rate limiting OFF (``KOSODATE_API_RATE_LIMIT_PER_MINUTE=0``:
wrk is one client and would be limited), loopback only. The API's resident memory (VmRSS, and VmHWM, the
peak) is read from /proc before the first request, after a warm-up, between the runs and after them; the host
load average is recorded with each run (other work on the machine shows there).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.load_db import prepare

PROJECT = Path(__file__).resolve().parent.parent
RESULTS = PROJECT / "bench" / "results"
PORT = 8070  # api_bench's port for our server (the two benches are not run at the same time)
POOL = 16  # plus as many overflow connections: 32 at most, the larger run's connection count
KINDS = ("ベーカリー", "カフェ", "書店", "薬局", "ラーメン", "美容室", "スーパー", "写真館", "寿司", "眼鏡店")
# Shares of the mix (out of 20): radius 6, keyword 4, bbox 4, tile 4, detail 2.
MIX = {"radius": 6, "keyword": 4, "bbox": 4, "tile": 4, "detail": 2}
HALF = 0.01  # bbox half-size in degrees (a ~2 x 2 km phone map view)


def sample_places(url: str, places: int, seed: int) -> list[dict[str, Any]]:
    """One real shop in each of ``places`` municipalities chosen at random (with its point and names)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            """
            SELECT DISTINCT ON (municipality_code) id, municipality_code, municipality,
                   ST_Y(location::geometry) AS lat, ST_X(location::geometry) AS lng
            FROM shops TABLESAMPLE BERNOULLI (2) REPEATABLE (%s)
            WHERE status = 'active' AND location IS NOT NULL
            ORDER BY municipality_code, id
            """,
            (seed,),
        ).fetchall()
    rng = random.Random(seed)
    rng.shuffle(rows)
    keys = ("id", "code", "municipality", "lat", "lng")
    return [dict(zip(keys, r, strict=True)) for r in rows[:places]]


def tile_of(lat: float, lng: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lng + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def request_paths(places: list[dict[str, Any]], total: int, seed: int) -> list[tuple[str, str]]:
    """``total`` (kind, path) pairs in the MIX proportions, each over a random place."""
    rng = random.Random(seed)
    kinds = [k for k, share in MIX.items() for _ in range(share)]
    out: list[tuple[str, str]] = []
    for i in range(total):
        kind = kinds[i % len(kinds)]
        p = rng.choice(places)
        lat = round(p["lat"] + rng.uniform(-0.005, 0.005), 5)
        lng = round(p["lng"] + rng.uniform(-0.005, 0.005), 5)
        if kind == "radius":
            radius = rng.choice((500, 1000, 3000))
            path = f"/v1/shops?lat={lat}&lng={lng}&radius_m={radius}&limit=20"
        elif kind == "keyword":
            word = rng.choice(KINDS)
            if rng.random() < 0.5:
                q = urllib.parse.quote(f"{p['municipality']} {word}")
                path = f"/v1/shops?q={q}&limit=20"
            else:
                path = f"/v1/shops?q={urllib.parse.quote(word)}&lat={lat}&lng={lng}&radius_m=3000&limit=20"
        elif kind == "bbox":
            bbox = f"{lng - HALF:.4f},{lat - HALF:.4f},{lng + HALF:.4f},{lat + HALF:.4f}"
            path = f"/collections/shops/items?bbox={bbox}&limit=100"
        elif kind == "tile":
            z = rng.choice((11, 12, 13, 14, 15))
            x, y = tile_of(lat, lng, z)
            path = f"/tiles/{z}/{x}/{y}.mvt"
        else:
            path = rng.choice((f"/v1/shops/{p['id']}", f"/collections/shops/items/{p['id']}"))
        out.append((kind, path))
    rng.shuffle(out)
    return out


def memory(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak resident) of the API process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return fields


def loadavg() -> list[float]:
    return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]


def wrk_script(paths: list[str]) -> str:
    body = "paths = {" + ",".join(json.dumps(p) for p in paths) + "}\n"
    body += "request = function()\n  return wrk.format('GET', paths[math.random(#paths)])\nend\n"
    # each wrk thread seeds its own generator differently, so the threads do not walk in step
    body += "local n = 0\nsetup = function(thread)\n  n = n + 1\n  thread:set('seed', n)\nend\n"
    body += "init = function(args)\n  math.randomseed(os.time() * 100 + seed)\nend\n"
    return body


def parse_wrk(out: str) -> dict[str, Any]:
    def ms(label: str) -> float:
        m = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        return round(float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)], 2)

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "req_s": float(rps.group(1)) if rps else 0.0,
        "requests": int(total.group(1)) if total else 0,
        "p50_ms": ms("50%"),
        "p75_ms": ms("75%"),
        "p90_ms": ms("90%"),
        "p99_ms": ms("99%"),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": dict(
            zip(
                ("connect", "read", "write", "timeout"),
                map(int, sock.groups()) if sock else (0, 0, 0, 0),
                strict=True,
            )
        ),
    }


def wrk(
    base: str, script: str, connections: int, duration: int, timeout_s: int
) -> tuple[dict[str, Any], str]:
    cmd = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{duration}s",
        f"--timeout={timeout_s}s",
        "--latency",
        "-s",
        script,
        base,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60, check=True).stdout
    return parse_wrk(out), " ".join(cmd)


def check_paths(base: str, paths: list[tuple[str, str]]) -> dict[str, Any]:
    """Every kind answers 200 (a few of each, one at a time) before the load starts; single-request times."""
    seen: dict[str, list[float]] = {}
    with httpx.Client(base_url=base, timeout=30) as c:
        for kind, path in paths:
            if len(seen.get(kind, [])) >= 5:
                continue
            started = time.perf_counter()
            r = c.get(path)
            if r.status_code != 200:
                raise RuntimeError(f"{path} -> {r.status_code}: {r.text[:300]}")
            seen.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
    return {k: round(sorted(v)[len(v) // 2], 1) for k, v in seen.items()}


def main() -> None:  # noqa: PLR0915 - one linear script
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shops", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=60, help="seconds per measured run")
    parser.add_argument(
        "--connections", type=int, nargs="+", default=[8, 32, 8], help="one run each, in order, same server"
    )
    parser.add_argument("--places", type=int, default=400, help="municipalities the requests are spread over")
    parser.add_argument("--paths", type=int, default=4000)
    parser.add_argument("--timeout", type=int, default=10, help="wrk's per-request timeout, seconds")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pool", type=int, default=POOL, help="database pool size (as many again overflow)")
    parser.add_argument("--out", default="load_run.json", help="file name under bench/results")
    parser.add_argument(
        "--per-kind",
        type=int,
        default=15,
        help="then each kind of request alone at 8 connections (s; 0 = skip)",
    )
    args = parser.parse_args()

    url = prepare(args.shops)
    places = sample_places(url, args.places, args.seed)
    paths = request_paths(places, args.paths, args.seed)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOSODATE_", "DATABASE_"))}
    env |= {
        "KOSODATE_DATABASE_URL": url,
        "KOSODATE_API_RATE_LIMIT_PER_MINUTE": "0",
        "KOSODATE_DB_POOL_SIZE": str(args.pool),
    }
    server_cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "kosodate.asgi:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(PORT),
        "--workers",
        "1",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(server_cmd, env=env, cwd=PROJECT)
    base = f"http://127.0.0.1:{PORT}"
    results: dict[str, Any] = {
        "command": " ".join(["python -m bench.load_run", *sys.argv[1:]]),
        "shops": args.shops,
        "server": " ".join(["python", *server_cmd[1:]]),
        "workers": 1,
        "db_pool": f"{args.pool} + {args.pool} overflow",
        "rate_limit": "off (KOSODATE_API_RATE_LIMIT_PER_MINUTE=0)",
        "cpus": os.cpu_count(),
        "places": len(places),
        "municipalities": len({p["code"] for p in places}),
        "paths": len(paths),
        "mix": {k: sum(1 for kind, _ in paths if kind == k) for k in MIX},
        "wrk_timeout_s": args.timeout,
        "runs": [],
    }
    script = None
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the API did not come up")
            time.sleep(0.3)
        results["memory_start"] = memory(server.pid)
        results["single_request_median_ms"] = check_paths(base, paths)
        print("single requests (median ms):", results["single_request_median_ms"], flush=True)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
            fh.write(wrk_script([p for _, p in paths]))
            script = fh.name
        warm, _ = wrk(base, script, min(args.connections), args.warmup, args.timeout)
        results["warmup"] = warm | {"seconds": args.warmup}
        results["memory_after_warmup"] = memory(server.pid)
        for connections in args.connections:
            load_before = loadavg()
            run, cmd = wrk(base, script, connections, args.duration, args.timeout)
            run |= {
                "connections": connections,
                "duration_s": args.duration,
                "wrk": cmd.replace(script, "paths.lua"),
                "loadavg_before": load_before,
                "loadavg_after": loadavg(),
                "memory_after": memory(server.pid),
            }
            results["runs"].append(run)
            print(json.dumps(run, ensure_ascii=False), flush=True)
        if args.per_kind:
            results["per_kind_8_connections"] = {}
            for kind in MIX:
                with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
                    fh.write(wrk_script([p for k, p in paths if k == kind]))
                try:
                    alone, _ = wrk(base, fh.name, 8, args.per_kind, args.timeout)
                finally:
                    os.unlink(fh.name)
                results["per_kind_8_connections"][kind] = alone | {"loadavg_after": loadavg()}
                print(kind, json.dumps(alone), flush=True)
        results["memory_end"] = memory(server.pid)
        results["errors_total"] = sum(
            r["non_2xx"] + sum(r["socket_errors"].values()) for r in results["runs"]
        )
    finally:
        if script:
            os.unlink(script)
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / args.out).write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
