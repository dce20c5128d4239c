"""Source profiles: which column of a registry file holds which field. Configuration, not code."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path

from ingest.errors import IngestError
from ingest.formats import fold_header

FIELDS = (
    "source_id", "name", "name_kana", "address", "building", "postal_code", "phone", "url", "hours",
    "closed_days", "perk_text", "categories", "amenities", "lat", "lng", "municipality_code",
    "registered_on", "source", "withdrawn_on", "closed_on", "notified_on",
)  # fmt: skip
_DIGITS_RE = re.compile(r"[0-9]+")
TRUE_VALUES = frozenset({"true", "1", "yes", "y", "○", "〇", "◯", "有", "あり", "可", "t"})


@dataclass(frozen=True, slots=True)
class FieldSpec:
    columns: tuple[str, ...]
    sep: str = ""
    dedupe: bool = False
    digits: bool = False  # keep only the number in each column ("co101357" -> "101357", "0003" -> "3")

    def extract(self, row: Mapping[str, str | None]) -> str:
        if len(self.columns) == 1 and not self.digits:  # most fields: one column, as it is
            return (row.get(self.columns[0]) or "").strip()
        values = [(row.get(c) or "").strip() for c in self.columns]
        if self.digits:
            values = [str(int("".join(_DIGITS_RE.findall(v)) or "0")) if v else v for v in values]
        values = [v for v in values if v]
        if self.dedupe:
            values = list(dict.fromkeys(values))
        return self.sep.join(values)


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    title: str
    format: str
    source: str
    detect: tuple[str, ...]
    fields: dict[str, FieldSpec]
    flags: dict[str, str] = field(default_factory=dict)
    # Address context for files that leave it out (e.g. a city's own list gives only the town).
    defaults: dict[str, str] = field(default_factory=dict)

    def matches(self, header: Iterable[str]) -> bool:
        present = {fold_header(h) for h in header}
        return all(c in present for c in self.detect)

    def columns(self) -> set[str]:
        cols = {c for spec in self.fields.values() for c in spec.columns}
        return cols | set(self.flags.values())


def _spec(value: object, where: str) -> FieldSpec:
    if isinstance(value, str):
        return FieldSpec((fold_header(value),))
    if isinstance(value, dict) and isinstance(value.get("columns"), list):
        return FieldSpec(
            tuple(fold_header(c) for c in value["columns"]),
            sep=str(value.get("sep", "")),
            dedupe=bool(value.get("dedupe", False)),
            digits=bool(value.get("digits", False)),
        )
    raise IngestError(f"profile {where}: a field is a column name or {{columns = [...], sep = ...}}")


def parse_profile(data: Mapping[str, object], where: str) -> Profile:
    try:
        fields_raw = data["fields"]
        detect_raw = data["detect"]
        flags_raw = data.get("flags", {})
        defaults_raw = data.get("defaults", {})
        if not (
            isinstance(fields_raw, dict)
            and isinstance(detect_raw, dict)
            and isinstance(flags_raw, dict)
            and isinstance(defaults_raw, dict)
        ):
            raise IngestError(f"profile {where}: [fields], [detect], [flags], [defaults] must be tables")
        unknown = set(fields_raw) - set(FIELDS)
        if unknown:
            raise IngestError(f"profile {where}: unknown fields {sorted(unknown)}")
        return Profile(
            name=str(data["name"]),
            title=str(data.get("title", data["name"])),
            format=str(data.get("format", "csv")),
            source=str(data.get("source", data["name"])),
            detect=tuple(fold_header(c) for c in detect_raw["columns"]),
            fields={k: _spec(v, where) for k, v in fields_raw.items()},
            flags={str(k): fold_header(v) for k, v in flags_raw.items()},
            defaults={str(k): str(v) for k, v in defaults_raw.items()},
        )
    except (KeyError, TypeError) as exc:
        raise IngestError(f"profile {where} is malformed: {exc!r}") from exc


@cache
def builtin_profiles() -> list[Profile]:
    folder = files("ingest") / "profiles"
    out = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".toml"):
            out.append(parse_profile(tomllib.loads(entry.read_text(encoding="utf-8")), entry.name))
    return out


def load_profile(name_or_path: str) -> Profile:
    """A built-in profile by name, or a profile TOML file by path."""
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.exists():
        return parse_profile(tomllib.loads(path.read_text(encoding="utf-8")), str(path))
    for profile in builtin_profiles():
        if profile.name == name_or_path:
            return profile
    names = ", ".join(p.name for p in builtin_profiles())
    raise IngestError(f"unknown profile {name_or_path!r} (built in: {names})")


def detect_profile(header: Iterable[str]) -> Profile | None:
    """The built-in profile whose identifying columns are all in the header (most specific first)."""
    header = list(header)
    matching = [p for p in builtin_profiles() if p.matches(header)]
    matching.sort(key=lambda p: len(p.detect), reverse=True)
    return matching[0] if matching else None
