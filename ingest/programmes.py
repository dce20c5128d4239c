"""Programmes as configuration: area, exclusions with hand-off targets, cards, lifecycle."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from ingest.errors import IngestError


@dataclass(frozen=True, slots=True)
class Exclusion:
    """Shops in these municipalities belong to another programme and are handed to it."""

    municipality_codes: frozenset[str]
    address_prefixes: tuple[str, ...]
    handoff_to: str
    reason: str


@dataclass(frozen=True, slots=True)
class Programme:
    code: str
    name: str
    name_en: str
    prefectures: tuple[int, ...]
    municipalities: frozenset[str] = frozenset()
    card: str | None = None
    exclusions: tuple[Exclusion, ...] = ()
    lifecycle: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


def _expand_codes(values: list[str]) -> frozenset[str]:
    """Codes or inclusive ranges like ``"14101-14118"``."""
    out: set[str] = set()
    for value in values:
        if "-" in value:
            lo, hi = value.split("-", 1)
            out.update(f"{n:05d}" for n in range(int(lo), int(hi) + 1))
        else:
            out.add(value.zfill(5))
    return frozenset(out)


def parse_programme(data: dict[str, Any], where: str) -> Programme:
    try:
        exclusions = tuple(
            Exclusion(
                municipality_codes=_expand_codes(list(e.get("municipality_codes", []))),
                address_prefixes=tuple(e.get("address_prefixes", [])),
                handoff_to=str(e["handoff_to"]),
                reason=str(e["reason"]),
            )
            for e in data.get("exclusions", [])
        )
        return Programme(
            code=str(data["code"]),
            name=str(data["name"]),
            name_en=str(data.get("name_en", data["name"])),
            prefectures=tuple(int(p) for p in data.get("prefectures", [])),
            municipalities=_expand_codes(list(data.get("municipalities", []))),
            card=data.get("card"),
            exclusions=exclusions,
            lifecycle=dict(data.get("lifecycle", {})),
            raw=data,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise IngestError(f"programme {where} is malformed: {exc!r}") from exc


def builtin_programmes() -> dict[str, Programme]:
    folder = files("ingest") / "programmes"
    out = {}
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".toml"):
            programme = parse_programme(tomllib.loads(entry.read_text(encoding="utf-8")), entry.name)
            out[programme.code] = programme
    return out


def load_programme(name_or_path: str) -> Programme:
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.exists():
        return parse_programme(tomllib.loads(path.read_text(encoding="utf-8")), str(path))
    known = builtin_programmes()
    if name_or_path not in known:
        raise IngestError(f"unknown programme {name_or_path!r} (built in: {', '.join(sorted(known))})")
    return known[name_or_path]
