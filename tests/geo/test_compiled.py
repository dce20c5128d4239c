"""The load's hot modules compiled with mypyc (kosodate/build_compiled.py, geo/_compiled.py): used only
while the build matches the sources, and giving exactly the rows the Python sources give."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

import geo.text
import ingest.staging
import search.keys
from geo._compiled import MANIFEST, ROOT, current_build, source_digest
from kosodate.build_compiled import HOT
from tests.conftest import shared_file


def _fake_build(tmp_path: Path, **manifest: object) -> tuple[Path, Path]:
    root, build = tmp_path / "src", tmp_path / "build"
    (root / "geo").mkdir(parents=True)
    (root / "geo" / "text.py").write_text("X = 1\n", encoding="utf-8")
    build.mkdir()
    body = {
        "cache_tag": sys.implementation.cache_tag,
        "suffix": EXTENSION_SUFFIXES[0],
        "sources": {"geo/text.py": source_digest(root / "geo" / "text.py")},
    } | manifest
    (build / MANIFEST).write_text(json.dumps(body), encoding="utf-8")
    return build, root


def test_a_build_is_used_only_while_it_matches_the_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KOSODATE_PURE_PYTHON", raising=False)
    build, root = _fake_build(tmp_path)
    assert current_build(build, root) == (build, "")
    (root / "geo" / "text.py").write_text("X = 2\n", encoding="utf-8")  # edited after the build
    found, why = current_build(build, root)
    assert found is None and "geo/text.py changed" in why
    (root / "geo" / "text.py").unlink()
    assert current_build(build, root)[0] is None


def test_a_build_for_another_interpreter_or_none_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KOSODATE_PURE_PYTHON", raising=False)
    build, root = _fake_build(tmp_path, cache_tag="cpython-399")
    assert "another interpreter" in current_build(build, root)[1]
    assert "no compiled build" in current_build(tmp_path / "nowhere", root)[1]
    build, root = _fake_build(tmp_path / "again")
    monkeypatch.setenv("KOSODATE_PURE_PYTHON", "1")
    assert current_build(build, root) == (None, "KOSODATE_PURE_PYTHON is set")


def test_this_checkout_runs_its_hot_modules_compiled() -> None:
    """`make test` compiles first (`make compile`), so in CI the hot modules must be the build's."""
    build, why = current_build()
    if build is None:
        if os.environ.get("CI") and not os.environ.get("KOSODATE_PURE_PYTHON"):
            pytest.fail(f"CI runs after `make compile`, yet: {why}")
        pytest.skip(f"hot modules run as Python here: {why}")
    for module in (geo.text, search.keys, ingest.staging):
        assert module.__file__ is not None and Path(module.__file__).is_relative_to(build), module
    manifest = json.loads((build / MANIFEST).read_text(encoding="utf-8"))
    assert sorted(manifest["sources"]) == sorted(HOT)


def test_the_packages_stay_the_projects_from_any_folder(tmp_path: Path) -> None:
    """The console scripts import the project through the editable install, from wherever they are
    run: the build folder must not pass for the packages there (it once did, as namespace packages
    without the programmes, profiles and SQL beside the sources)."""
    probe = (
        "import kosodate.cli, ingest, geo.text\n"
        "from importlib.resources import files\n"
        "from ingest.programmes import builtin_programmes\n"
        "print(ingest.__file__, files('ingest'), len(builtin_programmes()), geo.text.__file__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    package, resources, programmes, text_module = done.stdout.split()
    assert Path(package) == ROOT / "ingest" / "__init__.py"
    assert Path(resources) == ROOT / "ingest"
    assert int(programmes) >= 2
    build, _why = current_build()
    assert Path(text_module).is_relative_to(build) if build is not None else text_module.endswith(".py")


# Every hot step of a load over a real file, no database: read, normalise, place (source points),
# decide, tag, stage with the search keys, and the first-load row. Printed as one digest per file.
_ROWS = """
import hashlib, sys, tomllib
from ingest.locate import Locator
from ingest.normalize import normalize
from ingest.programmes import load_programme
from ingest.read import open_registry, read_rows
from ingest.staging import new_shop_row, staging_row
from ingest.tag import tag
from ingest.lifecycle import standing
from datetime import date
import geo.text
path, code = sys.argv[1], sys.argv[2]
programme, locator, out, today = load_programme(code), Locator(), hashlib.sha256(), date(2026, 4, 1)
for raw in read_rows(open_registry(__import__("pathlib").Path(path))):
    shop = normalize(raw)
    out.update(repr(shop).encode())
    if not hasattr(shop, "source_id"):
        continue
    located = locator.geocode(shop)
    where = locator.decide(located, programme)
    out.update(repr(where).encode())
    if not hasattr(where, "municipality_code"):
        continue
    tagged = tag(located, programme, 1, raw.flags, where, today=today)
    row = staging_row(tagged, standing(shop, tagged.expires_on, programme.lifecycle, today), keys=True)
    out.update(repr((tagged, row, new_shop_row(row, "2026-04-01 00:00:00+09", 7))).encode())
print(geo.text.__file__.endswith(".py"), out.hexdigest())
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("parts", "code"),
    [
        (("shops", "ishikawa_prepass_2014_raw_shared.csv"), "ishikawa"),
        (("shops", "matsudo_mirai_card_2017.csv"), "matsudo"),
    ],
)
def test_the_compiled_modules_give_the_rows_python_gives(parts: tuple[str, str], code: str) -> None:
    build, why = current_build()
    if build is None:
        pytest.skip(f"no compiled build to compare: {why}")
    path = shared_file(*parts)
    digests = {}
    for pure in (True, False):
        env = {k: v for k, v in os.environ.items() if k != "KOSODATE_PURE_PYTHON"}
        if pure:
            env["KOSODATE_PURE_PYTHON"] = "1"
        done = subprocess.run(
            [sys.executable, "-c", _ROWS, str(path), code],
            capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        as_python, digest = done.stdout.split()
        assert as_python == str(pure)  # each side really ran as it says
        digests[pure] = digest
    assert digests[True] == digests[False]
