"""Search speed and quality at scale: database-level p50/p99 on >=1,000,000 synthetic shops.

    nice .venv/bin/python -m bench.search_bench --shops 1000000

Starts its own embedded cluster (port 54306, ./.bench-data), loads the real shared data through the
ingest pipeline plus N synthetic shops (bench/synth.py, COPY), rebuilds the indexes (timed, sized),
then times each query type on prepared random parameters: radius only, radius + category, radius +
keyword of 1, 2 and 3+ characters, bbox + facets, keyword only across the country. Statements are the
ones the API runs (search.queries), compiled once and executed with psycopg, so the figures are the
database round trip. A reference run in the same invocation times 1- and 2-character keywords the way
the foundation did (LIKE, which pg_trgm cannot serve below 3 characters). EXPLAIN ANALYZE of each
type is saved, with the indexes it used. Recall@10 runs the Japanese query set through the full
PostgreSQL backend (search.backends.postgres.search). Results: bench/results/search_bench.{json,md}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import time
import tomllib
from typing import Any

import psycopg
from alembic import command
from sqlalchemy import Select, create_engine, event
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from bench.synth import PROJECT, SHARED, BenchDb, load_synthetic, vocabulary
from ingest.pipeline import ingest_file
from ingest.programmes import load_programme
from search import queries
from search.backends import postgres
from search.contract import BBox, Facet, SearchRequest, SearchResult
from search.db import SESSION_OPTIONS
from search.migrate import alembic_config, code_heads, current_heads

RESULTS = PROJECT / "bench" / "results"
QUERY_SET = PROJECT / "tests" / "search" / "query_set.toml"
DIALECT = postgresql.dialect(paramstyle="pyformat")  # type: ignore[no-untyped-call]
# As the application connects (search/db.py): custom plans, the typo pass's trigram bar (without
# it the one-typo queries of the query set find nothing: pg_trgm's default bar is 0.6), no workers.
APP_OPTIONS = SESSION_OPTIONS
WORDS = {
    "1char": ["駅", "湯", "森", "花", "寿"],
    "2char": ["寿司", "銀行", "薬局", "教室", "温泉"],
    "3plus": ["らーめん", "すしべん", "ローソン", "sushiro", "マクドナルド", "がっけん"],
}


def compile_sql(stmt: Select[Any], extra: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    compiled = stmt.compile(dialect=DIALECT)
    return str(compiled), {**compiled.params, **extra}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def time_type(conn: psycopg.Connection[Any], cases: list[tuple[str, dict[str, Any]]]) -> dict[str, float]:
    # Warm up: every case once, untimed, so each type is timed with its pages in memory (a service's
    # steady state; the first touch of 200 random places otherwise measures the page cache, e.g.
    # radius 4.7-6.1 ms cold against 1.2-1.3 ms warm on this host).
    for sql, params in cases:
        conn.execute(sql, params).fetchall()
    times = []
    rows = []
    for sql, params in cases:
        t0 = time.perf_counter()
        got = conn.execute(sql, params).fetchall()
        times.append((time.perf_counter() - t0) * 1000)
        rows.append(len(got))
    return {
        "n": len(times),
        "p50_ms": round(statistics.median(times), 2),
        "p99_ms": round(percentile(times, 99), 2),
        "mean_rows": round(statistics.mean(rows), 1),
    }


def explain(conn: psycopg.Connection[Any], sql: str, params: dict[str, Any]) -> dict[str, Any]:
    plan = "\n".join(r[0] for r in conn.execute("EXPLAIN (ANALYZE, COSTS OFF, BUFFERS) " + sql, params))
    # Indexes of plan nodes that ran (names-first plans hold tiers that are never executed).
    ran = "\n".join(line for line in plan.splitlines() if "never executed" not in line)
    used = sorted(
        set(re.findall(r"(?:Index Scan|Index Only Scan|Bitmap Index Scan) (?:using|on) (\w+)", ran))
    )
    return {"indexes_used": used, "seq_scan_on_shops": "Seq Scan on shops" in plan, "plan": plan}


def requests_for(
    kind: str, rnd: random.Random, points: list[tuple[float, float]], n: int
) -> list[SearchRequest]:
    out = []
    for _ in range(n):
        lat, lng = rnd.choice(points)
        if kind == "radius_only":
            out.append(SearchRequest(lat=lat, lng=lng, radius_m=2000, limit=20))
        elif kind == "radius_category":
            out.append(SearchRequest(lat=lat, lng=lng, radius_m=2000, categories=("facility",), limit=20))
        elif kind.startswith("radius_keyword_"):
            word = rnd.choice(WORDS[kind.removeprefix("radius_keyword_")])
            out.append(SearchRequest(q=word, lat=lat, lng=lng, radius_m=3000, limit=20))
        elif kind == "bbox_facets":
            box = BBox(lng - 0.05, lat - 0.04, lng + 0.05, lat + 0.04)
            out.append(SearchRequest(bbox=box, facets=(Facet.CATEGORY, Facet.MUNICIPALITY), limit=20))
        elif kind.startswith("keyword_only_"):
            word = rnd.choice(WORDS[kind.removeprefix("keyword_only_")])
            out.append(SearchRequest(q=word, limit=20))
    return out


def statements(kind: str, request: SearchRequest, cap: int) -> list[tuple[str, dict[str, Any]]]:
    extra = queries.search_params(request)
    out = [compile_sql(queries.shop_search(request), extra)]
    if kind == "bbox_facets":
        facets = tuple(f.value for f in request.facets)
        out.append(compile_sql(queries.count_and_facets(request, facets, cap), extra))
    return out


KINDS = [
    "radius_only", "radius_category", "radius_keyword_1char", "radius_keyword_2char", "radius_keyword_3plus",
    "bbox_facets", "keyword_only_1char", "keyword_only_2char", "keyword_only_3plus",
]  # fmt: skip


def run_timings(url: str, points: list[tuple[float, float]], per_type: int, cap: int) -> dict[str, Any]:
    rnd = random.Random(7)
    out: dict[str, Any] = {}
    with psycopg.connect(url, autocommit=True, options=APP_OPTIONS) as conn:
        for kind in KINDS:
            reqs = requests_for(kind, rnd, points, per_type)
            cases = [s for r in reqs for s in statements(kind, r, cap)]
            out[kind] = time_type(conn, cases)
            sql, params = statements(kind, reqs[0], cap)[-1 if kind == "bbox_facets" else 0]
            out[kind]["explain"] = explain(conn, sql, params)
            if kind == "bbox_facets":  # the two statements per request: hits + count/facets
                out[kind]["note"] = "times are per statement; a request runs both (hits, count+facets)"
            print(kind, {k: v for k, v in out[kind].items() if k != "explain"}, flush=True)
        # Reference: short words without the bigram index (the foundation's LIKE path).
        saved = queries.BIGRAM_MAX_CHARS
        queries.BIGRAM_MAX_CHARS = 0
        try:
            for kind in ("radius_keyword_1char", "radius_keyword_2char", "keyword_only_2char"):
                reqs = requests_for(kind, random.Random(7), points, max(10, per_type // 10))
                cases = [s for r in reqs for s in statements(kind, r, cap)]
                out[f"reference_like_{kind}"] = time_type(conn, cases)
                print("reference", kind, out[f"reference_like_{kind}"], flush=True)
        finally:
            queries.BIGRAM_MAX_CHARS = saved
        # Reference: one short word across the country scored over every match (names and addresses),
        # as before names-first (issue 6 follow-up).
        queries.NAMES_FIRST = False
        try:
            for kind in ("keyword_only_1char", "keyword_only_2char"):
                reqs = requests_for(kind, random.Random(7), points, max(20, per_type // 4))
                cases = [s for r in reqs for s in statements(kind, r, cap)]
                out[f"reference_all_matches_{kind}"] = time_type(conn, cases)
                print("reference", kind, out[f"reference_all_matches_{kind}"], flush=True)
        finally:
            queries.NAMES_FIRST = True
    return out


async def _recall_pass(conn: AsyncConnection, cases: list[dict[str, Any]]) -> dict[str, Any]:
    found = expected = 0
    misses = []
    times = []
    for case in cases:
        request = SearchRequest(
            q=case["q"], lat=case.get("lat"), lng=case.get("lng"),
            radius_m=case.get("radius_m", 3000 if "lat" in case else None), limit=10,
            facets=(Facet.CATEGORY, Facet.MUNICIPALITY),
        )  # fmt: skip
        t0 = time.perf_counter()
        result = await postgres.search(conn, request)
        times.append((time.perf_counter() - t0) * 1000)
        names = [h["name"] for h in result.hits]
        for name in case["expect"]:
            expected += 1
            if name in names:
                found += 1
            else:
                misses.append({"q": case["q"], "kind": case["kind"], "missing": name, "got": names[:10]})
        await conn.rollback()
    return {
        "queries": len(cases),
        "expected": expected,
        "found": found,
        "recall_at_10": round(found / expected, 3),
        "misses": misses,
        "backend_ms_p50": round(statistics.median(times), 1),
    }


async def _backend_p50(conn: AsyncConnection, words: list[str], rounds: int) -> tuple[float, SearchResult]:
    """Whole-country keyword search through the whole backend (hits + count + facets)."""
    times = []
    for _ in range(rounds):
        for word in words:
            t0 = time.perf_counter()
            result = await postgres.search(
                conn, SearchRequest(q=word, limit=20, facets=(Facet.CATEGORY, Facet.MUNICIPALITY))
            )
            times.append((time.perf_counter() - t0) * 1000)
            await conn.rollback()
    return round(statistics.median(times), 1), result


async def recall(url: str) -> dict[str, Any]:
    cases = tomllib.loads(QUERY_SET.read_text(encoding="utf-8"))["query"]
    engine = create_async_engine(
        url.replace("postgresql://", "postgresql+psycopg://"),
        connect_args={"options": APP_OPTIONS},
    )
    async with engine.connect() as conn:
        # Reference in the same run: ranking without place words (as before this change).
        queries.PLACE_WORDS = False
        try:
            before = await _recall_pass(conn, cases)
        finally:
            queries.PLACE_WORDS = True
        out = await _recall_pass(conn, cases)
        out["reference_without_place_words"] = {k: v for k, v in before.items() if k != "backend_ms_p50"}
        # Must show: q=駅 across the country, through the whole backend (hits + count + facets).
        out["eki_whole_country_backend_ms_p50"], r = await _backend_p50(conn, ["駅"], 20)
        out["eki_total"], out["eki_total_exact"] = r.total, r.total_exact
        out["eki_facets_category"] = r.facets.get("category")
        backend: dict[str, float] = {}
        for n in ("1char", "2char"):
            backend[f"keyword_only_{n}"], _ = await _backend_p50(conn, WORDS[n], 4)
            queries.NAMES_FIRST = False
            try:
                backend[f"reference_all_matches_keyword_only_{n}"], _ = await _backend_p50(conn, WORDS[n], 2)
            finally:
                queries.NAMES_FIRST = True
        out["backend_whole_country_ms_p50"] = backend
    await engine.dispose()
    return out


def load_real(url: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    ingest_file(engine, SHARED / "shops" / "ishikawa_prepass_2017_shared.csv", load_programme("ishikawa"))
    sample = PROJECT / "ingest" / "sample_data"
    ingest_file(engine, sample / "sample_kanagawa.csv", load_programme("kanagawa"))
    ingest_file(engine, sample / "sample_aichi.csv", load_programme("aichi"))
    ingest_file(
        engine, PROJECT / "tests" / "search" / "data" / "search_extra.csv", load_programme("kanagawa")
    )
    engine.dispose()


def migrate_loaded(url: str) -> dict[str, Any]:
    """Apply pending migrations to the loaded bench database (no reload), timing each statement and
    sizing the indexes they create; memory settings as in ``bench.synth.load_synthetic``."""
    timings: list[tuple[str, float]] = []

    def before(conn: Any, *_: Any) -> None:
        conn.info["t0"] = time.monotonic()

    def after(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        timings.append((statement, time.monotonic() - conn.info.pop("t0")))

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    built: dict[str, dict[str, float]] = {}
    t0 = time.monotonic()
    with engine.connect() as conn:
        conn.exec_driver_sql("SET maintenance_work_mem = '1GB'")
        conn.exec_driver_sql("SET max_parallel_maintenance_workers = 1")
        cfg = alembic_config(url)
        cfg.attributes["connection"] = conn
        event.listen(conn, "before_cursor_execute", before)
        event.listen(conn, "after_cursor_execute", after)
        command.upgrade(cfg, "heads")
        conn.commit()
        for statement, seconds in timings:
            found = re.search(r"CREATE INDEX (\w+)", statement)
            if found:
                size = conn.exec_driver_sql(f"SELECT pg_relation_size('{found[1]}'::regclass)").scalar_one()
                built[found[1]] = {"build_s": round(seconds, 1), "mb": round(int(size) / 2**20, 1)}
        analyze_t0 = time.monotonic()
        conn.exec_driver_sql("ANALYZE shops")
        conn.commit()
        analyze_s = time.monotonic() - analyze_t0
    engine.dispose()
    return {"indexes": built, "analyze_s": round(analyze_s, 1), "total_s": round(time.monotonic() - t0, 1)}


def markdown(report: dict[str, Any]) -> str:
    lines = [f"# Search bench ({report['shops']:,} synthetic shops + the real shared data)", ""]
    lines += [f"Command: `{report['command']}`  ", f"Host: {report['host']}", ""]
    if "load_average_at_start" in report:
        lines += [
            f"Load average (1, 5, 15 min) at start {report['load_average_at_start']}, "
            f"at end {report.get('load_average_at_end')}",
            "",
        ]
    lines += ["| query type | p50 ms | p99 ms | rows | indexes used |", "|---|---|---|---|---|"]
    for kind, t in report["timings"].items():
        used = ", ".join(t.get("explain", {}).get("indexes_used", [])) or "-"
        lines.append(f"| {kind} | {t['p50_ms']} | {t['p99_ms']} | {t['mean_rows']} | {used} |")
    lines += [
        "",
        "Load and indexes:",
        "",
        "```",
        json.dumps(report["load"], indent=1, ensure_ascii=False),
        "```",
    ]
    rc = report["recall"]
    lines += ["", f"Recall@10 of the query set: {rc['recall_at_10']} ({rc['found']}/{rc['expected']})"]
    ref = rc.get("reference_without_place_words")
    if ref:
        lines += [
            "(same run, ranking without place words: "
            f"{ref['recall_at_10']} ({ref['found']}/{ref['expected']}))"
        ]
    lines += ["", "Misses:", ""] + [f"- `{m['q']}` ({m['kind']}): {m['missing']}" for m in rc["misses"]]
    lines += [
        "",
        "q=駅 whole country, full backend (hits+count+facets) p50: "
        f"{rc['eki_whole_country_backend_ms_p50']} ms "
        f"(total {rc['eki_total']}, exact: {rc['eki_total_exact']})",
    ]
    for kind, ms in rc.get("backend_whole_country_ms_p50", {}).items():
        lines.append(f"- full backend, {kind}: {ms} ms")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description="search bench")
    parser.add_argument("--shops", type=int, default=1_000_000)
    parser.add_argument("--per-type", type=int, default=200)
    parser.add_argument("--reuse", action="store_true", help="skip loading: time the existing bench database")
    parser.add_argument("--keep-running", action="store_true")
    args = parser.parse_args()
    report: dict[str, Any] = {
        "command": "nice .venv/bin/python -m bench.search_bench "
        f"--shops {args.shops} --per-type {args.per_type}" + (" --reuse" if args.reuse else ""),
        "host": "2 shared vCPU, PostgreSQL 15 embedded (fsync off), other engineers' jobs running",
        "shops": args.shops,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    db = BenchDb()
    db.cluster.start()
    try:
        if not args.reuse:
            db.fresh()
            t0 = time.monotonic()
            load_real(db.url)
            vocab = vocabulary()
            report["load"] = load_synthetic(db.url, args.shops, vocab=vocab)
            report["load"]["total_s"] = round(time.monotonic() - t0, 1)
            print(report["load"], flush=True)
        else:
            previous = RESULTS / "search_bench.json"
            report["load"] = json.loads(previous.read_text())["load"] if previous.exists() else {}
            if current_heads(db.url.replace("postgresql://", "postgresql+psycopg://")) != set(code_heads()):
                report["load"]["migrated_on_loaded_db"] = migrate_loaded(db.url)
                print(report["load"]["migrated_on_loaded_db"], flush=True)
        vocab = vocabulary()
        points = [(t[3], t[4]) for t in random.Random(3).sample(vocab.towns, 2000)]
        report["timings"] = run_timings(db.url, points, args.per_type, 10_000)
        report["recall"] = asyncio.run(recall(db.url))
        print({k: v for k, v in report["recall"].items() if k != "misses"}, flush=True)
    finally:
        if not args.keep_running:
            db.cluster.stop()
    report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "search_bench.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    (RESULTS / "search_bench.md").write_text(markdown(report))


if __name__ == "__main__":
    main()
