"""The compiled build of the load's hot modules (``kosodate.build_compiled``), used only while it is
the build of the sources as they are now.

The build lives in ``.build/compiled/`` beside the sources, never over them: a package whose modules
were compiled puts that folder in front of its own (``use_build``), so ``import geo.text`` finds the
extension there. That happens only when the build's manifest names this interpreter and every source
it was made from still has the digest it had then; after any edit the sources run as Python until
the next build (``make compile``, which ``make test`` and ``make demo`` run). ``KOSODATE_PURE_PYTHON=1``
runs them as Python regardless (for A/B measurements).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
from collections.abc import MutableSequence
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent  # the folder holding geo/, ingest/, search/
BUILD = ROOT / ".build" / "compiled"
MANIFEST = "manifest.json"
_decided: list[Path | None] = []  # the one decision of this process, made at the first import


def source_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def current_build(build: Path = BUILD, root: Path = ROOT) -> tuple[Path | None, str]:
    """(the build folder, or None; why not, when not)."""
    manifest, why = current_manifest(build, root)
    return (build if manifest is not None else None), why


def current_manifest(build: Path = BUILD, root: Path = ROOT) -> tuple[dict[str, Any] | None, str]:
    """(the build's manifest when the build is current, else None; why not, when not)."""
    if os.environ.get("KOSODATE_PURE_PYTHON"):
        return None, "KOSODATE_PURE_PYTHON is set"
    try:
        manifest = json.loads((build / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, "no compiled build (make compile)"
    if manifest.get("cache_tag") != sys.implementation.cache_tag or manifest.get("suffix") not in (
        EXTENSION_SUFFIXES
    ):
        return None, "the compiled build is for another interpreter (make compile)"
    sources: dict[str, str] = manifest.get("sources", {})
    try:
        stale = [name for name, digest in sources.items() if source_digest(root / name) != digest]
    except OSError as exc:
        return None, f"a compiled module's source is missing: {exc}"
    if stale or not sources:
        return None, f"{', '.join(stale) or 'nothing'} changed since the compiled build (make compile)"
    return manifest, ""


def _load_shared_library(build: Path, manifest: dict[str, Any]) -> None:
    """Load the library every compiled module calls into (a top-level module named after the build's
    group) from the build folder, under its name in ``sys.modules``, where the modules look first.
    The folder itself is never put on ``sys.path``: its ``geo/``, ``ingest/`` and ``search/`` would
    then pass for namespace packages wherever the project's own folders are not on the path (a
    console script run from elsewhere, which imports the project through the editable install)."""
    name = f"{manifest['group']}__mypyc"
    spec = importlib.util.spec_from_file_location(name, build / f"{name}{manifest['suffix']}")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {name} from {build}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[name] = module


def build_in_use() -> Path | None:
    """The build this process uses (decided once, at the first package that asks)."""
    if not _decided:
        manifest, why = current_manifest()
        build = BUILD if manifest is not None else None
        if manifest is not None:
            try:
                _load_shared_library(BUILD, manifest)
            except (ImportError, OSError, KeyError, ValueError) as exc:
                build, why = None, f"the compiled build does not load ({exc}; make compile)"
        if build is None and (BUILD / MANIFEST).exists() and not os.environ.get("KOSODATE_PURE_PYTHON"):
            sys.stderr.write(f"kosodate: running the hot modules as Python: {why}\n")
        _decided.append(build)
    return _decided[0]


def use_build(package: str, path: MutableSequence[str]) -> None:
    """Put the package's compiled modules in front of its sources, when the build is current."""
    build = build_in_use()
    if build is not None and (build / package).is_dir():
        path.insert(0, str(build / package))
