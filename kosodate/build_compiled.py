"""Compile the load's hot modules with mypyc into ``.build/compiled/`` (``make compile``).

    .venv/bin/python -m kosodate.build_compiled [--force]

The modules in ``HOT`` are what a load runs for every row: Japanese text folding, address splitting,
readings, normalising, tagging, the staged row and its search keys. They are plain, strictly typed
Python; mypyc turns them into C extensions from the same source (a load's Python needs ~10% less CPU,
bench/results/ingest_bench.md). They run compiled only while the build matches the sources
(``geo._compiled``), so the sources stay the truth: an edited module runs as Python until the next
build. Nothing else is compiled: modules that tests patch, and the database and file code, stay
Python.

The build is made in a new folder and swapped in whole, with a manifest of the digests of the sources
it was made from; it is skipped when the manifest already matches them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

from geo._compiled import BUILD, MANIFEST, ROOT, current_manifest, source_digest

HOT = (
    "geo/text.py",
    "geo/prefectures.py",
    "geo/municipality.py",
    "geo/address.py",
    "geo/reading.py",
    "search/keys.py",
    "ingest/models.py",
    "ingest/seen.py",
    "ingest/normalize.py",
    "ingest/jurisdiction.py",
    "ingest/card_rules.py",
    "ingest/perks.py",
    "ingest/tag.py",
    "ingest/lifecycle.py",
    "ingest/staging.py",
    "ingest/formats.py",
    "ingest/profile.py",
    "ingest/read.py",
    "ingest/pipeline.py",
)
GROUP = "kosodate_hot"  # the name of the shared library every compiled module loads


def _up_to_date() -> bool:
    manifest, _why = current_manifest(BUILD, ROOT)
    return manifest is not None and sorted(manifest["sources"]) == sorted(HOT)


def build() -> Path:
    """Compile ``HOT`` and swap the result in as ``.build/compiled``; return it."""
    from mypyc.build import mypycify  # noqa: PLC0415 - a development tool, needed only here
    from setuptools import setup  # type: ignore[import-untyped]  # noqa: PLC0415

    BUILD.parent.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="compiled-", dir=BUILD.parent))
    digests = {name: source_digest(ROOT / name) for name in HOT}
    cwd = Path.cwd()
    os.chdir(ROOT)  # mypyc names modules by their paths from here
    try:
        extensions = mypycify(list(HOT), opt_level="3", group_name=GROUP, target_dir=str(work / "c"))
        setup(
            name="kosodate-hot",
            ext_modules=extensions,
            script_args=[
                "-q",
                "build_ext",
                "--build-lib",
                str(work / "lib"),
                "--build-temp",
                str(work / "o"),
            ],
        )
    finally:
        os.chdir(cwd)
    if any(source_digest(ROOT / name) != digest for name, digest in digests.items()):
        shutil.rmtree(work)
        raise SystemExit("a source changed while it was being compiled: run the build again")
    manifest = {
        "cache_tag": sys.implementation.cache_tag,
        "suffix": EXTENSION_SUFFIXES[0],
        "group": GROUP,
        "sources": digests,
    }
    (work / "lib" / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    old = BUILD.with_name("compiled.old")
    shutil.rmtree(old, ignore_errors=True)
    if BUILD.exists():
        BUILD.rename(old)
    (work / "lib").rename(BUILD)
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(work)
    return BUILD


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="build even when the build matches the sources")
    args = parser.parse_args()
    if not args.force and _up_to_date():
        sys.stdout.write(f"compiled modules are up to date ({BUILD.relative_to(ROOT)})\n")
        return
    where = build()
    sys.stdout.write(f"compiled {len(HOT)} modules into {where.relative_to(ROOT)}\n")


if __name__ == "__main__":
    main()
