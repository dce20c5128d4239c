"""Where a load's Python time goes, per row and per step, with no database.

Synthesises ``--rows`` canonical rows (``bench/ingest_bench.py``'s generator; ``--kana``: the file
carries its readings) and runs each step of the pipeline over all of them in turn, timing each step
on its own (one thread, so the figures are CPU time per row on this machine): read, normalise, the
within-file duplicate check, geocode (source points) and jurisdiction, tag, the staging row (its
address split and content digest), the search keys (reading, romaji key, gram codes and their COPY
text) and psycopg's COPY formatting of the staged row. Every step runs twice; the second pass is
reported (caches warm, as they are after the first few thousand rows of a real load).

Then the same steps as one pass, the way the pipeline runs them: each row through every step in turn
(under Python's default collector thresholds, and under the run's, ``RUN_GC_THRESHOLDS``), and a
chunk of ``CHUNK`` rows through each step before the next (what ``ingest.pipeline`` does), in CPU
time of this process per row.

    nice .venv/bin/python bench/ingest_python_cost.py --rows 20000 --kana

Results go to ``bench/results/ingest_python_cost.json`` (and are printed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any, cast

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from psycopg._copy_base import TextFormatter  # noqa: E402
from psycopg.adapt import Transformer  # noqa: E402

from bench.ingest_bench import PROGRAMME_TOML, synthesise  # noqa: E402
from geo._compiled import build_in_use  # noqa: E402
from geo.address import split_address  # noqa: E402
from geo.text import fold  # noqa: E402
from ingest import staging as load  # noqa: E402
from ingest.jurisdiction import Jurisdiction  # noqa: E402
from ingest.lifecycle import standing  # noqa: E402
from ingest.load import BATCH  # noqa: E402
from ingest.locate import Locator  # noqa: E402
from ingest.models import NormalizedShop  # noqa: E402
from ingest.normalize import normalize  # noqa: E402
from ingest.pipeline import CHUNK, _duplicate_of, _rarer_collections  # noqa: E402
from ingest.programmes import parse_programme  # noqa: E402
from ingest.read import open_registry, read_rows  # noqa: E402
from ingest.seen import FirstLines  # noqa: E402
from ingest.tag import tag  # noqa: E402
from search.keys import copy_text, name_codes, text_codes  # noqa: E402


def _whole(path: Path, rows: int, chunk: int) -> float:
    """CPU us per row of every step in one pass, ``chunk`` rows through each step at a time."""
    programme = parse_programme(tomllib.loads(PROGRAMME_TOML), "bench")
    today = date.today()
    by_id, by_name = FirstLines(), FirstLines()
    locator = Locator()
    formatter = TextFormatter(Transformer())
    staged: list[tuple[Any, ...]] = []
    source = islice(read_rows(open_registry(path)), rows)
    started = time.process_time()
    while raws := list(islice(source, chunk)):
        # the bench's rows are all valid and inside the programme's area: no rejections to sort out
        shops = cast("list[NormalizedShop]", [normalize(r) for r in raws])
        for s, r in zip(shops, raws, strict=True):
            _duplicate_of(s, r.original, by_id, by_name)
        located = [locator.geocode(s) for s in shops]
        where = cast("list[Jurisdiction]", [locator.decide(g, programme) for g in located])
        tagged = [
            tag(g, programme, 1, r.flags, w, today=today)
            for g, r, w in zip(located, raws, where, strict=True)
        ]
        standings = [
            standing(s, t.expires_on, programme.lifecycle, today) for s, t in zip(shops, tagged, strict=True)
        ]
        staged += [load.staging_row(t, st, keys=True) for t, st in zip(tagged, standings, strict=True)]
        if len(staged) >= BATCH:
            for row in staged:
                formatter.write_row(row)
            staged = []
    return round((time.process_time() - started) / rows * 1e6, 1)


def measure(path: Path, rows: int) -> dict[str, float]:
    programme = parse_programme(tomllib.loads(PROGRAMME_TOML), "bench")
    today = date.today()
    out: dict[str, float] = {}

    def step(label: str, fn: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        result = fn()
        out[label] = round((time.perf_counter() - started) / rows * 1e6, 1)
        return result

    def one_pass() -> None:
        raws = step(
            "read", lambda: [r for _, r in zip(range(rows), read_rows(open_registry(path)), strict=False)]
        )
        shops: list[NormalizedShop] = step("normalise", lambda: [normalize(r) for r in raws])
        by_id, by_name = FirstLines(), FirstLines()
        step(
            "duplicate check",
            lambda: [_duplicate_of(s, r.original, by_id, by_name) for s, r in zip(shops, raws, strict=True)],
        )
        locator = Locator()
        located = step("geocode", lambda: [locator.geocode(s) for s in shops])
        where = step("jurisdiction", lambda: [locator.decide(g, programme) for g in located])
        tagged = step(
            "tag",
            lambda: [
                tag(g, programme, 1, r.flags, w, today=today)
                for g, r, w in zip(located, raws, where, strict=True)
            ],
        )
        standings = step(
            "standing",
            lambda: [
                standing(s, t.expires_on, programme.lifecycle, today)
                for s, t in zip(shops, tagged, strict=True)
            ],
        )
        step(
            "staging row without keys",
            lambda: [load.staging_row(t, s) for t, s in zip(tagged, standings, strict=True)],
        )
        step("  of which address split", lambda: [split_address(t.geocoded.shop.address) for t in tagged])
        staged = step(
            "staging row with keys",
            lambda: [load.staging_row(t, s, keys=True) for t, s in zip(tagged, standings, strict=True)],
        )
        at = {c: i for i, c in enumerate(load.STAGING_COLUMNS)}
        step("  content digest", lambda: [load._row_digest(r[1 : at["content_hash"]]) for r in staged])
        keys = [
            tuple(
                r[at[c]]
                for c in (
                    "name",
                    "name_kana",
                    "name_key",
                    "kana_key",
                    "prefecture",
                    "municipality",
                    "address",
                )
            )
            for r in staged
        ]
        step(
            "  search keys",
            lambda: [load.search_keys(n, k if not d else None, nk, p, m, a) for (n, k, nk, _, p, m, a), d in
                     zip(keys, (r[at["derive_kana"]] for r in staged), strict=True)],
        )  # fmt: skip
        step("    reading", lambda: [load._reading(n) for n, *_ in keys])
        step("    romaji key", lambda: [load._romaji_key(n, k) for n, k, *_ in keys])
        step("    name codes", lambda: [name_codes(k[2], k[3]) for k in keys])
        step("    name codes + COPY text", lambda: [copy_text(name_codes(k[2], k[3])) for k in keys])
        step(
            "    address codes + COPY text",
            lambda: [copy_text(text_codes(fold((p or "") + (m or "") + a))) for *_, p, m, a in keys],
        )
        formatter = TextFormatter(Transformer())
        step("COPY formatting", lambda: [formatter.write_row(r) for r in staged])

    for _ in range(2):  # the second pass is kept
        out.clear()
        one_pass()
    _whole(path, rows, CHUNK)  # warm
    out["whole pass, row by row, default GC"] = _whole(path, rows, 1)
    with _rarer_collections():
        out["whole pass, row by row"] = _whole(path, rows, 1)
        out[f"whole pass, {CHUNK} rows at a time"] = _whole(path, rows, CHUNK)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--kana", action="store_true", help="the file carries its readings")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "ingest_python_cost.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "shops.csv"
        synthesise(path, args.rows, with_kana=args.kana)
        load_before = os.getloadavg()
        per_row = measure(path, args.rows)
    result = {
        "command": " ".join(sys.argv),
        "rows": args.rows,
        "kana": args.kana,
        "compiled": build_in_use() is not None,  # the hot modules' mypyc build (make compile)
        "load_1min_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "us_per_row": per_row,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
