"""One first load, seen over time: where a load's two sides (the Python process and the run's
database backend) wait for each other.

``ingest_bench.py`` gives a load's rows/s and CPU seconds; this shows when each side worked. It runs
``ingest_file`` once on the bench's synthesised file (``--kana``: the file carrying its readings) into
a fresh migrated database of the embedded cluster and prints:

* the stages' start times ("geocoding": rows start; "loading": the reading side is done; "indexing":
  the run has committed);
* every batch the writer thread handled: rows, start and end (seconds into the run), and the CPU the
  backend used meanwhile, with its share of the batch's time;
* the CPU each side used per half second (``--every``), each cluster process's CPU over the run, and
  the WAL written;
* with ``--waits``, what the backend was doing, sampled every 10 ms from ``pg_stat_activity``
  (``-:-:active`` is on or waiting for a CPU). The sampling thread shares the Python process's GIL
  and slows that side by a few per cent: leave it out when comparing rows/s.

Run (the embedded cluster; no ``KOSODATE_DATABASE_URL``):

    KOSODATE_DB_PORT=54331 KOSODATE_DB_DATA_DIR=/tmp/kbench3 nice .venv/bin/python \\
        bench/ingest_timeline.py --rows 100000 --kana [--waits]

For an A/B, run it alternately from two checkouts (``python <tree>/bench/ingest_timeline.py``) and
compare rounds taken at the same time (bench/results/ingest_ab_s10.txt).
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import sys
import tempfile
import threading
import time
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import psycopg  # noqa: E402
from sqlalchemy import text  # noqa: E402

import ingest.load  # noqa: E402
from bench.ingest_bench import PROGRAMME_TOML, _fresh_database, cluster_processes, synthesise  # noqa: E402
from bench.ingest_bench import process_cpu_s as _cpu_s  # noqa: E402
from ingest.pipeline import ingest_file  # noqa: E402
from ingest.programmes import parse_programme  # noqa: E402
from search.db import sync_engine  # noqa: E402


def _cluster_processes(pgdata: Path) -> dict[int, str]:
    """The postmaster's children: pid -> what it is (``postgres: walwriter``, a backend, ...)."""
    postmaster, processes = cluster_processes(pgdata)
    found = {}
    for pid in processes:
        try:
            name = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if pid != postmaster:
            found[pid] = name.strip()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--kana", action="store_true", help="a file carrying its readings")
    parser.add_argument("--waits", action="store_true", help="sample the backend's wait events")
    parser.add_argument("--every", type=float, default=0.5, help="seconds between CPU samples")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "timeline.csv"
        synthesise(path, args.rows, with_kana=args.kana)
        (cluster, settings), name = _fresh_database()
        engine = sync_engine(settings)
        programme = parse_programme(tomllib.loads(PROGRAMME_TOML), "bench")
        try:
            figures = _run(engine, cluster, name, path, programme, args)
        finally:
            engine.dispose()
            cluster.drop_database(name)
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")


def _run(  # noqa: PLR0915 - the run with its samplers, in order
    engine: Any, cluster: Any, name: str, path: Path, programme: Any, args: Any
) -> dict[str, Any]:
    admin = psycopg.connect(cluster.admin_dsn(name), autocommit=True)
    backend: list[int] = []
    batches: list[dict[str, Any]] = []
    stages: dict[str, float] = {}
    samples: list[tuple[float, float, float]] = []
    waits: Counter[str] = Counter()
    done = threading.Event()
    work = ingest.load.Loader._work
    start = time.perf_counter()

    def timed_work(loader: Any, kind: str, payload: Any) -> None:
        if not backend:
            backend.append(int(loader.conn.execute(text("SELECT pg_backend_pid()")).scalar_one()))
        cpu, began = _cpu_s(backend[0]), time.perf_counter() - start
        work(loader, kind, payload)
        ended = time.perf_counter() - start
        used = _cpu_s(backend[0]) - cpu
        batches.append(
            {"kind": kind, "rows": len(payload), "start_s": round(began, 2), "end_s": round(ended, 2),
             "backend_cpu_s": round(used, 2), "busy": round(used / max(ended - began, 0.01), 2)}
        )  # fmt: skip

    def sample_cpu() -> None:
        while not done.is_set():
            own = resource.getrusage(resource.RUSAGE_SELF)
            pg = _cpu_s(backend[0]) if backend else 0.0
            samples.append((time.perf_counter() - start, own.ru_utime + own.ru_stime, pg))
            done.wait(args.every)

    def sample_waits() -> None:
        watcher = psycopg.connect(cluster.admin_dsn(name), autocommit=True)
        while not done.is_set():
            if backend:
                row = watcher.execute(
                    "SELECT concat_ws(':', coalesce(wait_event_type, '-'), coalesce(wait_event, '-'), state) "
                    "FROM pg_stat_activity WHERE pid = %s",
                    (backend[0],),
                ).fetchone()
                if row:
                    waits[row[0]] += 1
            time.sleep(0.01)
        watcher.close()

    before = {pid: _cpu_s(pid) for pid in _cluster_processes(cluster.pgdata)}
    wal_before = admin.execute("SELECT pg_current_wal_lsn()").fetchone()[0]  # type: ignore[index]
    ingest.load.Loader._work = timed_work  # type: ignore[method-assign,assignment]
    threads = [threading.Thread(target=sample_cpu, daemon=True)]
    if args.waits:
        threads.append(threading.Thread(target=sample_waits, daemon=True))
    for thread in threads:
        thread.start()

    def on_stage(stage: str) -> None:
        stages.setdefault(stage, time.perf_counter() - start)

    try:
        summary = ingest_file(engine, path, programme, on_stage=on_stage)
    finally:
        ingest.load.Loader._work = work  # type: ignore[method-assign]
        done.set()
        for thread in threads:
            thread.join()
    figures = _figures(summary.rows, time.perf_counter() - start, stages, batches, samples, waits)
    wal_mb = admin.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s) / 1e6", (wal_before,)).fetchone()
    figures["wal_mb"] = round(float(wal_mb[0]), 1) if wal_mb else None
    figures["cluster_cpu_s"] = {
        what: round(_cpu_s(pid) - before.get(pid, 0.0), 2)
        for pid, what in _cluster_processes(cluster.pgdata).items()
        if Path(f"/proc/{pid}").exists()
    }
    admin.close()
    _print(figures)
    return figures


def _figures(
    rows: int,
    seconds: float,
    stages: dict[str, float],
    batches: list[dict[str, Any]],
    samples: list[tuple[float, float, float]],
    waits: Counter[str],
) -> dict[str, Any]:
    total = sum(waits.values())
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "stages_s": {k: round(v, 2) for k, v in stages.items()},
        "batches": batches,
        "waits_pct": {k: round(100 * v / total, 1) for k, v in waits.most_common()},
        "cpu_per_interval": [
            {
                "at_s": round(t1, 1),
                "python": round((p1 - p0) / (t1 - t0), 2),
                "backend": round((g1 - g0) / (t1 - t0), 2),
            }
            for (t0, p0, g0), (t1, p1, g1) in itertools.pairwise(samples)
        ],
    }


def _print(figures: dict[str, Any]) -> None:
    print(f"{figures['rows']} rows in {figures['seconds']} s: {figures['rows_per_s']} rows/s")
    print("stages (s):", figures["stages_s"])
    print("batch       rows  start    end  backend CPU  busy")
    for b in figures["batches"]:
        times = f"{b['start_s']:>6} {b['end_s']:>6}"
        print(f"{b['kind']:<8} {b['rows']:>7} {times} {b['backend_cpu_s']:>12} {b['busy']:>5}")
    print("CPU per interval (python / backend):")
    for s in figures["cpu_per_interval"]:
        print(f"  {s['at_s']:>6} s  {s['python']:.2f} / {s['backend']:.2f}")
    print("cluster processes' CPU (s):", figures["cluster_cpu_s"])
    print("WAL written (MB):", figures["wal_mb"])
    if figures["waits_pct"]:
        print("backend wait events (% of samples):", figures["waits_pct"])


if __name__ == "__main__":
    main()
