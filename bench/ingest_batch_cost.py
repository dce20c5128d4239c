"""What one batch of a first load costs PostgreSQL, statement by statement, in backend CPU seconds.

Loads ``--rows`` synthesised rows (with readings) through the real pipeline into a fresh database,
so ``shops`` holds a realistic table and indexes, then keeps ``--batch`` of them in staging form
(the columns of ``staging_shops``) for a second, new programme. Each variant then runs inside a
transaction that is rolled back, with every GIN pending list emptied first (so each starts alike),
and reports the backend's own CPU time (from /proc, so other load on the machine hardly matters)
and the wall time, median of ``--repeat`` rounds, the variants interleaved:

* ``merge``: ingest/sql/merge_shops.sql, what every batch ran before first loads had their own path
* ``copy_new``: a first load's batch now: its rows COPYed straight into shops in shop form
  (``ingest.staging.SHOP_COLUMNS``), then logged (ingest/sql/log_new_shops.sql)
* ``*_work_mem_4MB``: the same under PostgreSQL's default work_mem (the loader sets 64MB)
* ``copy_new_no_trigger``: with the ``shops_codes*`` and reference triggers disabled
* ``copy_new_fastupdate_off``: GIN indexes without pending lists (entries inserted one by one)
* ``copy_new_no_index``: with no index but the primary key (the heap, defaults, change log)

    KOSODATE_DB_PORT=54331 KOSODATE_DB_DATA_DIR=/tmp/kbench3 nice .venv/bin/python \\
        bench/ingest_batch_cost.py --rows 20000 --batch 5000 --repeat 3

Results go to ``bench/results/ingest_batch_cost.json`` (and are printed).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import psycopg

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.ingest_bench import PROGRAMME_TOML, _fresh_database, synthesise  # noqa: E402
from bench.ingest_bench import process_cpu_s as _cpu_s  # noqa: E402
from ingest.load import _sql  # noqa: E402
from ingest.pipeline import ingest_file  # noqa: E402
from ingest.programmes import parse_programme  # noqa: E402
from ingest.staging import SHOP_COLUMNS, STAGING_COLUMNS  # noqa: E402
from search.db import sync_engine  # noqa: E402

# A stored shop back in staging form (the columns the loader stages, in STAGING_COLUMNS order).
_AS_STAGED = {
    "line": "0",
    "programme_id": "{programme}::smallint",
    "lat": "ST_Y(location::geometry)",
    "lng": "ST_X(location::geometry)",
    "derive_kana": "false",
}


def measure(rows: int, batch: int, repeat: int) -> dict[str, Any]:  # noqa: PLR0915 - one scripted session
    (cluster, settings), name = _fresh_database()
    engine = sync_engine(settings)
    out: dict[str, Any] = {
        "rows": rows,
        "batch": batch,
        "repeat": repeat,
        "load_average_at_start": os.getloadavg(),
    }
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "shops.csv"
            synthesise(path, rows, with_kana=True)
            ingest_file(engine, path, parse_programme(tomllib.loads(PROGRAMME_TOML), "bench"))
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute(
                "INSERT INTO programmes (code, name, prefecture_codes, config) "
                "VALUES ('bench_batch', 'batch', '{}', '{}') RETURNING id"
            )
            programme = cur.fetchone()[0]  # type: ignore[index]
            cur.execute("SELECT max(id) FROM ingest_runs")
            run_id = cur.fetchone()[0]  # type: ignore[index]
            select = ", ".join(f"{_AS_STAGED.get(c, c)} AS {c}" for c in STAGING_COLUMNS)
            select = select.replace("{programme}", str(int(programme)))
            ddl = f"CREATE TABLE bench_batch AS SELECT {select} FROM shops ORDER BY id LIMIT {int(batch)}"  # noqa: S608 - our columns and integers
            cur.execute(ddl)
            cur.execute(
                "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_am a ON a.oid = c.relam WHERE i.indrelid = 'shops'::regclass AND a.amname = 'gin'"
            )
            gins = [n for (n,) in cur.fetchall()]
            cur.execute(
                "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE i.indrelid = 'shops'::regclass AND NOT i.indisprimary AND NOT i.indisunique"
            )
            droppable = [n for (n,) in cur.fetchall()]
            cur.execute("ANALYZE shops")
            raw.commit()
            cur.execute("SELECT pg_backend_pid()")
            pid = cur.fetchone()[0]  # type: ignore[index]
            raw.commit()
            merge, log_new = _sql("merge_shops.sql"), _sql("log_new_shops.sql")
            # A first load's batch as the loader sends it: the staged rows in shop form
            # (ingest.staging.new_shop_row), COPYed straight into shops, then logged.
            shop_form = {c: c for c in SHOP_COLUMNS} | {
                "location": "CASE WHEN lat IS NOT NULL THEN kosodate_point(lat, lng) END",
                "geocoded_at": "CASE WHEN lat IS NOT NULL THEN now() END",
                "first_run_id": str(int(run_id)),
                "last_run_id": str(int(run_id)),
            }
            as_shops = ", ".join(f"{shop_form[c]} AS {c}" for c in SHOP_COLUMNS)
            copied = bytearray()
            pg = cast("psycopg.Cursor[Any]", cur)  # the driver's own cursor, for COPY
            with pg.copy(f"COPY (SELECT {as_shops} FROM bench_batch) TO STDOUT") as dump:  # noqa: S608 - our columns
                while block := dump.read():
                    copied += block
            raw.commit()

            def statement(sql: str, *setup: str) -> Callable[[], None]:
                def run() -> None:
                    for line in setup:
                        cur.execute(line)
                    cur.execute(sql.replace(":run_id", str(int(run_id))))

                return run

            def copy_new(*setup: str) -> Callable[[], None]:
                def run() -> None:
                    for line in setup:
                        cur.execute(line)
                    cur.execute("SELECT coalesce(max(id), 0) FROM shops")
                    after = cur.fetchone()[0]  # type: ignore[index]
                    with pg.copy(f"COPY shops ({', '.join(SHOP_COLUMNS)}) FROM STDIN") as into:
                        into.write(bytes(copied))
                    sql = log_new
                    for name, value in (("run_id", run_id), ("programme_id", programme), ("after_id", after)):
                        sql = sql.replace(f":{name}", str(int(value)))
                    cur.execute(sql)

                return run

            wm = "SET LOCAL work_mem = '64MB'"
            variants: dict[str, Callable[[], None]] = {
                "merge": statement(merge, wm),
                "copy_new": copy_new(wm),
                "merge_work_mem_4MB": statement(merge),
                "copy_new_work_mem_4MB": copy_new(),
                "copy_new_no_trigger": copy_new(wm, "ALTER TABLE shops DISABLE TRIGGER USER"),
                "copy_new_fastupdate_off": copy_new(
                    wm, *(f"ALTER INDEX {g} SET (fastupdate = off)" for g in gins)
                ),
                "copy_new_no_index": copy_new(wm, *(f"DROP INDEX {i}" for i in droppable)),
            }
            samples: dict[str, list[tuple[float, float]]] = {k: [] for k in variants}
            for _ in range(repeat):
                for key, run in variants.items():
                    for gin in gins:
                        cur.execute("SELECT gin_clean_pending_list(%s::regclass)", (gin,))
                    raw.commit()
                    cur.execute("CREATE TEMP TABLE staging_shops ON COMMIT DROP AS SELECT * FROM bench_batch")
                    cur.execute("ANALYZE staging_shops")
                    cpu, wall = _cpu_s(pid), time.perf_counter()
                    run()
                    samples[key].append((_cpu_s(pid) - cpu, time.perf_counter() - wall))
                    raw.rollback()
            out["backend_cpu_s"] = {
                k: round(statistics.median(c for c, _ in v), 3) for k, v in samples.items()
            }
            out["wall_s"] = {k: round(statistics.median(w for _, w in v), 3) for k, v in samples.items()}
            out["backend_cpu_runs_s"] = {k: [round(c, 2) for c, _ in v] for k, v in samples.items()}
            out["backend_cpu_us_per_row"] = {
                k: round(v * 1e6 / batch) for k, v in out["backend_cpu_s"].items()
            }
            cur.execute("DROP TABLE bench_batch")
            raw.commit()
        finally:
            raw.close()
    finally:
        engine.dispose()
        cluster.drop_database(name)
    out["load_average_at_end"] = os.getloadavg()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "ingest_batch_cost.json")
    args = parser.parse_args()
    result = {"command": " ".join(sys.argv), **measure(args.rows, args.batch, args.repeat)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
