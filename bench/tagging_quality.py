"""Tagging quality and speed against the hand-labelled perk texts.

    .venv/bin/python bench/tagging_quality.py [--json bench/results/tagging_quality.json]

Reads tests/ingest/labels/perk_labels.csv (row ids into ../shared/data/shops; the text is read
from the shared file and must match the label's hash), runs the tagger on every text and reports
precision and recall
per category and per amenity, for the split the lexicon was tuned on ("tune"), the held-out split
("test") and all rows; once with SudachiPy and once lexicon-only. Speed: rows/s over the distinct
labelled texts with the cache off (every text analysed), and over the full Ishikawa 2017 file through
the whole tag stage with the cache on, beside a reference run of the foundation's literal tagger
(substring search only) in the same invocation. Medians of 5 runs.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.card_rules import decide_cards  # noqa: E402
from ingest.perks import PerkReader, make_analyzer  # noqa: E402
from ingest.programmes import load_programme  # noqa: E402
from ingest.tag import derive  # noqa: E402
from search.taxonomy import builtin_taxonomy  # noqa: E402
from tests.ingest.labels.labels import load_labels as _load_labels  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "shops"


def load_labels() -> list[dict[str, object]]:
    return _load_labels(SHARED)


def predict(reader: PerkReader, text: str) -> tuple[set[str], set[str]]:
    tags = derive(reader, text, {})
    return {t.value for t in tags if t.kind == "category"}, {t.value for t in tags if t.kind == "amenity"}


def scores(
    rows: Iterable[dict[str, object]], preds: dict[int, tuple[set[str], set[str]]]
) -> dict[str, object]:
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    errors: list[str] = []
    for r in rows:
        cats, ams = preds[int(str(r["n"]))]
        for kind, got, want in (("category", cats, r["categories"]), ("amenity", ams, r["amenities"])):
            assert isinstance(want, set)
            for v in got | want:
                key = f"{kind}:{v}"
                if v in got and v in want:
                    tp[key] += 1
                elif v in got:
                    fp[key] += 1
                    errors.append(f"  FP {key} #{r['n']}: {str(r['text'])[:70]}")
                else:
                    fn[key] += 1
                    errors.append(f"  FN {key} #{r['n']}: {str(r['text'])[:70]}")
    table = {}
    for key in sorted(set(tp) | set(fp) | set(fn)):
        p = tp[key] / (tp[key] + fp[key]) if tp[key] + fp[key] else None
        rc = tp[key] / (tp[key] + fn[key]) if tp[key] + fn[key] else None
        table[key] = {"support": tp[key] + fn[key], "tp": tp[key], "fp": fp[key], "fn": fn[key],
                      "precision": p, "recall": rc}  # fmt: skip
    return {"table": table, "errors": errors}


def rates(n: int, fn: Callable[[], object], runs: int = 5) -> dict[str, float]:
    """Rows per second, median of ``runs``, by CPU time and by wall clock. The machine is shared
    (2 cores, several engineers), so CPU time is the steadier figure; both are recorded."""
    cpu, wall = [], []
    for _ in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - t0)
    return {"cpu": n / statistics.median(cpu), "wall": n / statistics.median(wall)}


def _reading(reader: PerkReader, texts: list[str]) -> Callable[[], None]:
    def run() -> None:
        for text in texts:
            reader.read(text)

    return run


def literal_reference(texts: list[str]) -> Callable[[], None]:
    """The foundation's tagger: substring search for a few literal words, no morphology."""
    words = [w for a in builtin_taxonomy().amenities.values() for w in a.words]

    def run() -> None:
        for text in texts:
            low = text.lower()
            [w for w in words if w in low]

    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", type=Path)
    parser.add_argument("--errors", action="store_true", help="print every disagreement")
    args = parser.parse_args()
    rows = load_labels()
    report: dict[str, object] = {"labels": len(rows), "splits": dict(Counter(str(r["split"]) for r in rows))}
    for kind in ("sudachi", "lexicon"):
        reader = PerkReader(builtin_taxonomy(), make_analyzer(kind), cache_size=0)
        preds = {int(str(r["n"])): predict(reader, str(r["text"])) for r in rows}
        out = {}
        for split in ("tune", "test", "fresh", "all"):
            subset = [r for r in rows if split in ("all", r["split"])]
            res = scores(subset, preds)
            out[split] = res["table"]
            if args.errors and kind == "sudachi" and split != "all":
                print(f"-- {split} errors ({kind})")
                print("\n".join(res["errors"]))  # type: ignore[arg-type]
        report[kind] = out
        texts = [str(r["text"]) for r in rows]
        report[f"{kind}_labelled_uncached"] = rates(len(texts), _reading(reader, texts))
    # the tag stage's text work (derive + card rules) over the whole Ishikawa file
    ishikawa = load_programme("ishikawa")
    full = []
    with (SHARED / "ishikawa_prepass_2017_shared.csv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            two, three = r["privilege_two_children"].strip(), r["privilege_three_children"].strip()
            flags = {"perk_all_families": two, "perk_multi_child": three}
            full.append(("\n".join(dict.fromkeys(filter(None, (two, three)))), flags))
    analyzer = make_analyzer("sudachi")
    uncached = PerkReader(builtin_taxonomy(), analyzer, cache_size=0)

    def stage(reader: PerkReader) -> None:
        for text, flags in full:
            decide_cards(ishikawa, text, flags, derive(reader, text, {}))

    report["ishikawa_rows"] = len(full)
    report["ishikawa_stage_uncached"] = rates(len(full), lambda: stage(uncached))
    # one ingest's worth: a fresh cache per run (chain stores repeat their perk text within a file)
    report["ishikawa_stage_cached"] = rates(
        len(full), lambda: stage(PerkReader(builtin_taxonomy(), analyzer))
    )
    report["reference_literal"] = rates(len(full), literal_reference([t for t, _ in full]))
    print_report(report)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _f(v: object) -> str:
    return "  -  " if v is None else f"{float(str(v)):.3f}"


def print_report(report: dict[str, object]) -> None:
    print(f"labels: {report['labels']} {report['splits']}")
    for kind in ("sudachi", "lexicon"):
        data = report[kind]
        assert isinstance(data, dict)
        print(f"\n== {kind}: precision / recall (support) per split")
        keys = sorted(data["all"], key=lambda k: (not k.startswith("category"), k))
        head = "".join(
            f"{h:>8}"
            for h in ("tune P", "tune R", "test P", "test R", "fresh P", "fresh R", "all P", "all R", "n")
        )
        print(f"{'tag':32}{head}")
        for key in keys:
            cells = []
            for split in ("tune", "test", "fresh", "all"):
                s = data[split].get(key, {"precision": None, "recall": None})
                cells += [_f(s["precision"]), _f(s["recall"])]
            print(f"{key:32}" + "".join(f"{c:>8}" for c in cells) + f"{data['all'][key]['support']:>8}")
        rate = report[f"{kind}_labelled_uncached"]
        assert isinstance(rate, dict)
        print(
            f"labelled texts, every text analysed: {rate['cpu']:,.0f} rows/s CPU ({rate['wall']:,.0f} wall)"
        )
    print(f"\nIshikawa 2017 file, {report['ishikawa_rows']} rows, tag stage text work (derive + card rules):")
    ref = report["reference_literal"]
    assert isinstance(ref, dict)
    for key in ("ishikawa_stage_uncached", "ishikawa_stage_cached"):
        r = report[key]
        assert isinstance(r, dict)
        print(f"  {key}: {r['cpu']:,.0f} rows/s CPU ({r['wall']:,.0f} wall); "
              f"ratio to the literal-substring reference {r['cpu'] / ref['cpu']:.3f}")  # fmt: skip
    print(
        f"  reference_literal (substring search only): {ref['cpu']:,.0f} rows/s CPU ({ref['wall']:,.0f} wall)"
    )


if __name__ == "__main__":
    main()
