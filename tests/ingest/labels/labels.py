"""The hand labels reference shared rows by id; the texts themselves stay in ../shared/data.

Each label carries a short hash of the text it was made from, so a changed source is noticed.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

LABELS = Path(__file__).parent / "perk_labels.csv"


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:12]


def shared_texts(shops_dir: Path) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    with (shops_dir / "ishikawa_prepass_2017_shared.csv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            rid = f"ishikawa:{r['company_id']}-{r['shop_id']}"
            for col in ("privilege_two_children", "privilege_three_children", "pr_message"):
                out[(rid, col)] = r[col].strip()
    with (shops_dir / "matsudo_mirai_card_2017.csv").open(encoding="utf-8") as f:
        for line, r in enumerate(csv.DictReader(f), start=2):
            out[(f"matsudo:{line}", "service")] = r["service"].strip()
    return out


def load_labels(shops_dir: Path) -> list[dict[str, object]]:
    """Labels with their texts re-read from the shared files (a changed text is an error)."""
    texts = shared_texts(shops_dir)
    rows: list[dict[str, object]] = []
    with LABELS.open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            text = texts[(r["row_id"], r["column"])]
            if text_hash(text) != r["text_sha1"]:
                raise ValueError(f"label {r['n']}: the shared text changed; relabel it")
            rows.append({
                "n": int(r["n"]), "split": r["split"], "text": text, "column": r["column"],
                "categories": set(filter(None, r["categories"].split("|"))),
                "amenities": set(filter(None, r["amenities"].split("|"))),
            })  # fmt: skip
    return rows
