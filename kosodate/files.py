"""Files the CLI writes for people: whole or not at all (a temporary file beside the target, renamed)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, text: str, *, encoding: str = "utf-8") -> None:
    """Replace ``path`` with ``text``. A full or read-only disk raises ``OSError`` and leaves the old file
    as it was, with no temporary file behind."""
    path = path.resolve()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def not_written(path: Path, exc: OSError) -> str:
    """The one-line error for a file that could not be written."""
    return f"could not write {path}: {exc.strerror or exc}; {path.name} was not changed"
