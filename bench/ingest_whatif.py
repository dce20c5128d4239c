"""What a first load would cost with a piece of the database taken away or set otherwise.

Each variant loads the same synthesised file (``bench/ingest_bench.py``'s generator) into a fresh
migrated database through the real pipeline, after changing that database: ``--drop-index NAME``
drops an index of ``shops`` (what keeping it up to date costs a load), ``--set NAME=VALUE`` sets a
server parameter for the database (``ALTER DATABASE ... SET``, so the run's own ``SET LOCAL``s still
win). The reference, with nothing changed, runs in the same invocation; the variants and the
reference alternate for ``--rounds`` rounds. Reported per run: rows/s, wall seconds, and the CPU
seconds of this process (the Python side) and of the whole cluster (``first_run_cpu_s``, as in
``ingest_bench``).

    KOSODATE_DB_PORT=54331 KOSODATE_DB_DATA_DIR=/tmp/kbench3 nice .venv/bin/python bench/ingest_whatif.py \\
        --rows 100000 --rounds 2 --variant drop-index=shops_search_trgm --variant drop-index=shops_name_codes

Results go to ``--out`` (default ``bench/results/ingest_whatif.json``) and are printed. These are
questions for the search design (what an index costs a load), not settings the product uses.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from sqlalchemy import text  # noqa: E402

from bench.ingest_bench import PROGRAMME_TOML, _fresh_database, _postgres_cpu_s, synthesise  # noqa: E402
from ingest.pipeline import ingest_file  # noqa: E402
from ingest.programmes import parse_programme  # noqa: E402
from search.db import sync_engine  # noqa: E402


def _apply(engine: Any, database: str, variant: str) -> None:
    kind, _, value = variant.partition("=")
    with engine.begin() as conn:
        if kind == "drop-index":
            conn.execute(text(f'DROP INDEX "{value}"'))
        elif kind == "set":
            name, _, setting = value.partition("=")
            conn.execute(text(f"ALTER DATABASE \"{database}\" SET {name} = '{setting}'"))
        elif kind != "reference":
            raise SystemExit(f"unknown variant {variant!r}: drop-index=NAME or set=NAME=VALUE")


def run(path: Path, rows: int, variant: str) -> dict[str, Any]:
    (cluster, settings), name = _fresh_database()
    engine = sync_engine(settings)
    try:
        _apply(engine, name, variant)
        engine.dispose()  # new connections take the database's settings
        own, pg = resource.getrusage(resource.RUSAGE_SELF), _postgres_cpu_s(cluster.pgdata)
        started = time.perf_counter()
        ingest_file(engine, path, parse_programme(tomllib.loads(PROGRAMME_TOML), "bench"))
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "variant": variant,
            "rows_per_s": round(rows / seconds),
            "seconds": round(seconds, 2),
            "first_run_cpu_s": {
                "python": round(after.ru_utime + after.ru_stime - own.ru_utime - own.ru_stime, 1),
                "postgres": round(_postgres_cpu_s(cluster.pgdata) - pg, 1),
            },
            "load_1min": round(os.getloadavg()[0], 2),
        }
    finally:
        engine.dispose()
        cluster.drop_database(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=100000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--variant", action="append", default=[], help="drop-index=NAME or set=NAME=VALUE")
    parser.add_argument("--no-kana", action="store_true", help="the file carries no readings")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "ingest_whatif.json")
    args = parser.parse_args()
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "shops.csv"
        synthesise(path, args.rows, with_kana=not args.no_kana)
        for _ in range(args.rounds):
            for variant in ["reference", *args.variant]:
                runs.append(run(path, args.rows, variant))
                print(json.dumps(runs[-1], ensure_ascii=False), flush=True)
    medians = {
        v: statistics.median(r["rows_per_s"] for r in runs if r["variant"] == v)
        for v in ["reference", *args.variant]
    }
    result = {"command": " ".join(sys.argv), "rows": args.rows, "median_rows_per_s": medians, "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({"median_rows_per_s": medians}, ensure_ascii=False))


if __name__ == "__main__":
    main()
