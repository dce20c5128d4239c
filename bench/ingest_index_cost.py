"""Where a load's database time goes: the cost of writing shop rows with each of the indexes on ``shops``.

Loads ``--rows`` synthesised rows through the real pipeline into a fresh database, copies them aside,
then inserts them again (with new ids) into an empty copy of ``shops`` that carries: no index (the
reference, in the same invocation), the B-tree and GiST indexes only, then each GIN index added in
turn, then all of them. The per-index share is the difference. A bulk build (``CREATE INDEX`` on the
loaded table) of each GIN index is timed too, for comparison with keeping it up to date row by row.

    KOSODATE_DB_PORT=54393 KOSODATE_DB_DATA_DIR=.data nice .venv/bin/python bench/ingest_index_cost.py \
        --rows 20000 --repeat 3

Results go to ``bench/results/ingest_index_cost.json`` (and are printed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.ingest_bench import PROGRAMME_TOML, _fresh_database, synthesise  # noqa: E402
from ingest.pipeline import ingest_file  # noqa: E402
from ingest.programmes import parse_programme  # noqa: E402
from search.db import sync_engine  # noqa: E402


def _on_copy(ddl: str) -> str:
    """An index definition of ``shops`` made for the scratch copy (unnamed, on ``bench_t``)."""
    return re.sub(r"^CREATE (UNIQUE )?INDEX \S+ ON (public\.)?shops ", r"CREATE \1INDEX ON bench_t ", ddl)


def _gin_indexes(cur: Any) -> list[tuple[str, str]]:
    cur.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
        "WHERE i.indrelid = 'shops'::regclass AND a.amname = 'gin' ORDER BY c.relname"
    )
    return [(name, ddl) for name, ddl in cur.fetchall()]


def _other_indexes(cur: Any) -> list[str]:
    cur.execute(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
        "WHERE i.indrelid = 'shops'::regclass AND a.amname <> 'gin' AND NOT i.indisprimary"
    )
    return [ddl for (ddl,) in cur.fetchall()]


def measure(rows: int, repeat: int) -> dict[str, Any]:  # noqa: PLR0915 - one scripted session
    (cluster, settings), name = _fresh_database()
    engine = sync_engine(settings)
    out: dict[str, Any] = {"rows": rows, "repeat": repeat, "load_average_at_start": os.getloadavg()}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "shops.csv"
            synthesise(path, rows, with_kana=True)
            programme = parse_programme(tomllib.loads(PROGRAMME_TOML), "bench")
            start = time.perf_counter()
            ingest_file(engine, path, programme)
            out["pipeline_first_run_s"] = round(time.perf_counter() - start, 2)
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute("CREATE TABLE bench_src AS SELECT * FROM shops")
            cur.execute("ALTER TABLE bench_src DROP COLUMN search_text")
            cur.execute(
                "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute "
                "WHERE attrelid = 'bench_src'::regclass AND attnum > 0 AND NOT attisdropped"
            )
            columns = cur.fetchone()[0]  # type: ignore[index]
            gins = _gin_indexes(cur)
            others = _other_indexes(cur)
            raw.commit()

            def insert(index_ddl: list[str]) -> float:
                cur.execute("DROP TABLE IF EXISTS bench_t")
                cur.execute("CREATE TABLE bench_t (LIKE shops INCLUDING DEFAULTS INCLUDING GENERATED)")
                cur.execute("ALTER TABLE bench_t ADD PRIMARY KEY (id)")
                for ddl in index_ddl:
                    cur.execute(_on_copy(ddl))
                raw.commit()
                started = time.perf_counter()
                cur.execute(f"INSERT INTO bench_t ({columns}) SELECT {columns} FROM bench_src")  # noqa: S608 - column names from the catalogue
                raw.commit()
                return time.perf_counter() - started

            def median(index_ddl: list[str]) -> float:
                return round(statistics.median(insert(index_ddl) for _ in range(repeat)), 3)

            variants: dict[str, float] = {"no_index_reference": median([])}
            variants["btree_and_gist"] = median(others)
            for gin_name, ddl in gins:
                variants[f"btree_and_gist+{gin_name}"] = median([*others, ddl])
            variants["all"] = median([*others, *(ddl for _, ddl in gins)])
            out["insert_s"] = variants
            base = variants["btree_and_gist"]
            out["gin_share_s"] = {
                gin_name: round(variants[f"btree_and_gist+{gin_name}"] - base, 3) for gin_name, _ in gins
            }
            builds: dict[str, float] = {}
            insert(others)
            for gin_name, ddl in gins:
                started = time.perf_counter()
                cur.execute(_on_copy(ddl))
                raw.commit()
                builds[gin_name] = round(time.perf_counter() - started, 3)
            out["gin_bulk_build_s"] = builds
            cur.execute("DROP TABLE bench_t")
            cur.execute("DROP TABLE bench_src")
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
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "ingest_index_cost.json")
    args = parser.parse_args()
    result = {"command": " ".join(sys.argv), **measure(args.rows, args.repeat)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
