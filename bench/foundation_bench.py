"""Foundation figures: ingest rate and radius-query latency on the real Ishikawa 2017 list.

Reference runs in the same invocation: parsing the CSV alone (for ingest) and a bare ``SELECT 1``
round trip (for queries). Prints medians and ratios and writes bench/results/foundation.json.
"""

from __future__ import annotations

import csv
import json
import random
import shutil
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.pipeline import ingest_file  # noqa: E402
from ingest.programmes import load_programme  # noqa: E402
from search.embedded import EmbeddedCluster  # noqa: E402
from search.migrate import upgrade  # noqa: E402
from search.queries import ShopQuery, search_params, shop_search  # noqa: E402
from search.settings import DbSettings  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "shops" / "ishikawa_prepass_2017_shared.csv"
QUERIES = 300


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="kosodate-bench-"))
    root.chmod(0o755)
    settings = DbSettings(data_dir=root, port=_port(), name="bench")
    cluster = EmbeddedCluster(settings)
    cluster.start()
    cluster.create_database()
    upgrade(settings.sqlalchemy_url())
    engine = create_engine(settings.sqlalchemy_url())
    try:
        t0 = time.perf_counter()
        with DATA.open(encoding="utf-8", newline="") as fh:
            parsed = sum(1 for _ in csv.DictReader(fh))
        parse_s = time.perf_counter() - t0
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            summary = ingest_file(engine, DATA, load_programme("ishikawa"))
            runs.append(time.perf_counter() - t0)
            with engine.begin() as conn:  # make every run a first load
                conn.execute(
                    text("TRUNCATE shops, shop_changes, handoffs, rejected_rows, ingest_runs CASCADE")
                )
        ingest_s = statistics.median(runs)

        rng = random.Random(42)
        points = [
            (36.55 + rng.uniform(-0.08, 0.08), 136.65 + rng.uniform(-0.08, 0.08)) for _ in range(QUERIES)
        ]
        ingest_file(engine, DATA, load_programme("ishikawa"))
        with engine.connect() as conn:
            conn.execute(text("ANALYZE shops"))
            ref, radius = [], []
            for lat, lng in points:
                t0 = time.perf_counter()
                conn.execute(text("SELECT 1")).all()
                ref.append(time.perf_counter() - t0)
                query = ShopQuery(lat=lat, lng=lng, radius_m=3000, limit=20)
                t0 = time.perf_counter()
                conn.execute(shop_search(query), search_params(query)).all()
                radius.append(time.perf_counter() - t0)
        result = {
            "rows": parsed,
            "ingest_rows_per_s": round(parsed / ingest_s),
            "parse_only_rows_per_s": round(parsed / parse_s),
            "ingest_vs_parse_ratio": round(ingest_s / parse_s, 1),
            "ingest_runs_s": [round(r, 3) for r in runs],
            "radius_3km_p50_ms": round(statistics.median(radius) * 1000, 3),
            "radius_3km_p99_ms": round(sorted(radius)[int(0.99 * len(radius)) - 1] * 1000, 3),
            "select1_p50_ms": round(statistics.median(ref) * 1000, 3),
            "radius_vs_select1_ratio": round(statistics.median(radius) / statistics.median(ref), 1),
            "loaded": summary.loaded,
            "command": "python bench/foundation_bench.py",
        }
        print(json.dumps(result, indent=2, ensure_ascii=False))
        out = ROOT / "bench" / "results" / "foundation.json"
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    finally:
        engine.dispose()
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
