"""Read a registry file into ``RawRow`` objects, streaming, with line numbers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import IngestError
from ingest.formats import Sniffed, fold_header, object_records, sniff, tabular_records
from ingest.models import RawRow
from ingest.profile import Profile, detect_profile

_MAX_TITLE_ROWS = 10
_HEADER_SAMPLE = 50  # JSON records whose keys make up the header


@dataclass(frozen=True, slots=True)
class Opened:
    """A file whose header has been found and whose profile is known."""

    path: Path
    profile: Profile
    header: list[str]
    header_line: int
    sha256: str
    sniffed: Sniffed
    detected: bool = False


def _choose(header: list[str], profile: Profile | None) -> tuple[Profile | None, bool]:
    if profile is not None:
        return (profile if profile.matches(header) else None), False
    return detect_profile(header), True


def open_registry(path: Path, profile: Profile | None = None) -> Opened:
    """Find the header (skipping title rows) and the profile that fits it."""
    sniffed = sniff(path)
    if sniffed.kind in {"json", "geojson"}:
        keys: dict[str, None] = {}
        for number, obj in object_records(path, sniffed):
            keys.update(dict.fromkeys(obj))
            if number >= _HEADER_SAMPLE:
                break
        header = list(keys)
        chosen, detected = _choose(header, profile)
        if chosen is not None:
            return Opened(path, chosen, header, 0, sniffed.sha256, sniffed, detected)
    else:
        for line, record in tabular_records(path, sniffed):
            header = [fold_header(h) for h in record]
            chosen, detected = _choose(header, profile)
            if chosen is not None:
                return Opened(path, chosen, header, line, sniffed.sha256, sniffed, detected)
            if line > _MAX_TITLE_ROWS:
                break
    if profile is not None:
        raise IngestError(
            f"{path}: no header with the columns profile {profile.name!r} expects "
            f"({', '.join(profile.detect)})"
        )
    raise IngestError(f"{path}: no known profile matches the header; pass --profile")


def _raw(line: int, profile: Profile, row: dict[str, str]) -> RawRow:
    fields = {name: spec.extract(row) for name, spec in profile.fields.items()}
    flags = {amenity: (row.get(column) or "").strip() for amenity, column in profile.flags.items()}
    return RawRow(line=line, source=profile.source, fields=fields, flags=flags, original=row)


def read_rows(opened: Opened) -> Iterator[RawRow]:
    """The data rows after the header, as canonical fields (values still raw)."""
    profile = opened.profile
    header = opened.header
    if opened.sniffed.kind in {"json", "geojson"}:
        for number, obj in object_records(opened.path, opened.sniffed):
            yield _raw(number, profile, obj)
        return
    for line, record in tabular_records(opened.path, opened.sniffed):
        if line <= opened.header_line:
            continue
        if not any(v.strip() for v in record):
            continue  # a blank line is not a row
        row = dict(zip(header, record, strict=False))
        if len(record) > len(header):
            row["__extra__"] = "|".join(record[len(header) :])
        yield _raw(line, profile, row)
