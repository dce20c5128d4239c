"""Read a registry file into ``RawRow`` objects, streaming, with line numbers."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import IngestError
from ingest.models import RawRow
from ingest.profile import Profile, detect_profile

_MAX_TITLE_ROWS = 10
csv.field_size_limit(16 * 1024 * 1024)


@dataclass(frozen=True, slots=True)
class Opened:
    """A file whose header has been found and whose profile is known."""

    path: Path
    profile: Profile
    header: list[str]
    header_line: int
    sha256: str


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _records(path: Path) -> Iterator[tuple[int, list[str]]]:
    """CSV records with the physical line each starts on (fields may hold newlines)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            start = 1
            for record in reader:
                yield start, record
                start = reader.line_num + 1
    except UnicodeDecodeError as exc:
        raise IngestError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except csv.Error as exc:
        raise IngestError(f"{path}: unreadable CSV: {exc}") from exc


def open_registry(path: Path, profile: Profile | None = None) -> Opened:
    """Find the header (skipping title rows) and the profile that fits it."""
    if not path.is_file():
        raise IngestError(f"{path}: no such file")
    for line, record in _records(path):
        header = [h.strip() for h in record]
        chosen = profile if profile is not None and profile.matches(header) else None
        if profile is None:
            chosen = detect_profile(header)
        if chosen is not None:
            return Opened(path, chosen, header, line, file_sha256(path))
        if line > _MAX_TITLE_ROWS:
            break
    if profile is not None:
        raise IngestError(
            f"{path}: no header with the columns profile {profile.name!r} expects "
            f"({', '.join(profile.detect)})"
        )
    raise IngestError(f"{path}: no known profile matches the header; pass --profile")


def read_rows(opened: Opened) -> Iterator[RawRow]:
    """The data rows after the header, as canonical fields (values still raw)."""
    profile = opened.profile
    header = opened.header
    for line, record in _records(opened.path):
        if line <= opened.header_line:
            continue
        if len(record) <= 1 and not any(v.strip() for v in record):
            continue  # a blank line is not a row
        row = dict(zip(header, record, strict=False))
        if len(record) > len(header):
            row["__extra__"] = "|".join(record[len(header) :])
        fields = {name: spec.extract(row) for name, spec in profile.fields.items()}
        flags = {amenity: (row.get(column) or "").strip() for amenity, column in profile.flags.items()}
        yield RawRow(line=line, source=profile.source, fields=fields, flags=flags, original=row)
