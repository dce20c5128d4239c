"""The 1M-shop benchmark database (api_bench's cluster and loader), prepared once and reused.

    python -m bench.load_db --shops 1000000 [--sizes]

Starts the project-managed cluster under .data/bench-pg (port 54307), migrates it, and loads the synthetic
shops when the table does not already hold exactly that many. Prints the database URL. ``--sizes`` also
writes the database, table and index sizes to bench/results/db_sizes.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import psycopg

from bench.api_synth import load
from search.embedded import EmbeddedCluster
from search.migrate import upgrade
from search.settings import DbSettings

PROJECT = Path(__file__).resolve().parent.parent
DB_PORT = 54307


def bench_db() -> DbSettings:
    return DbSettings(data_dir=PROJECT / ".data" / "bench-pg", port=DB_PORT, name="kosodate_bench")


def prepare(shops: int) -> str:
    """Start, migrate and (if needed) load the benchmark database; return its libpq URL."""
    db = bench_db()
    cluster = EmbeddedCluster(db)
    cluster.start()
    cluster.create_database()
    upgrade(db.sqlalchemy_url())
    url = db.sqlalchemy_url().replace("+psycopg", "")
    with psycopg.connect(url) as conn:
        have = conn.execute("SELECT count(*) FROM shops").fetchone()
    if not have or have[0] != shops:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("TRUNCATE shops, shop_changes CASCADE")
        print(f"loading {shops} shops ...", flush=True)
        print(f"loaded in {load(url, shops):.0f}s", flush=True)
    return url


def sizes(url: str) -> dict[str, Any]:
    """On-disk sizes in MB (pg_database_size, pg_table_size, pg_indexes_size, pg_relation_size per index)."""
    mb = 1024 * 1024
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT pg_database_size(current_database()), pg_table_size('shops'), pg_indexes_size('shops'),"
            " pg_total_relation_size('shops'), (SELECT count(*) FROM shops),"
            " current_setting('shared_buffers'), version()"
        ).fetchone()
        assert row is not None
        indexes = conn.execute(
            "SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index"
            " WHERE indrelid = 'shops'::regclass ORDER BY 2 DESC"
        ).fetchall()
    return {
        "shops": row[4],
        "database_mb": round(row[0] / mb),
        "shops_table_mb": round(row[1] / mb),
        "shops_indexes_mb": round(row[2] / mb),
        "shops_total_mb": round(row[3] / mb),
        "indexes_mb": {name: round(size / mb, 1) for name, size in indexes},
        "shared_buffers": row[5],
        "server": row[6].split(" on ")[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shops", type=int, default=1_000_000)
    parser.add_argument("--sizes", action="store_true")
    args = parser.parse_args()
    url = prepare(args.shops)
    print(url)
    if args.sizes:
        measured = sizes(url) | {"command": " ".join(["python -m bench.load_db", *sys.argv[1:]])}
        out = PROJECT / "bench" / "results" / "db_sizes.json"
        out.write_text(json.dumps(measured, indent=2) + "\n")
        print(json.dumps(measured, indent=2))


if __name__ == "__main__":
    main()
