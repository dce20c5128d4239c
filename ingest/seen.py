"""First-seen lines of keys, in about 25 bytes per key (a dict of digests costs ~120).

Duplicate detection must remember every row of a file it has passed; this keeps that memory small:
open addressing over two flat arrays (64-bit digests, line numbers), doubled when 60% full.
"""

from __future__ import annotations

import hashlib
from array import array

_EMPTY = 0
_MAX_LOAD = 0.6


def digest64(text: str) -> int:
    """A 64-bit digest of the text, never 0 (0 marks an empty slot)."""
    value = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
    return value or 1


class FirstLines:
    """``first(key, line)``: the line a key was first seen on, or ``None`` (and remember it) if new."""

    def __init__(self, capacity: int = 1 << 14) -> None:
        self._keys = array("Q", bytes(8 * capacity))
        self._lines = array("I", bytes(4 * capacity))
        self._mask = capacity - 1
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def first(self, key: int, line: int) -> int | None:
        slot = key & self._mask
        keys = self._keys
        while True:
            found = keys[slot]
            if found == key:
                return int(self._lines[slot])
            if found == _EMPTY:
                break
            slot = (slot + 1) & self._mask
        keys[slot] = key
        self._lines[slot] = line
        self._count += 1
        if self._count > _MAX_LOAD * len(keys):
            self._grow()
        return None

    def _grow(self) -> None:
        old = zip(self._keys, self._lines, strict=True)
        capacity = 2 * len(self._keys)
        self._keys = array("Q", bytes(8 * capacity))
        self._lines = array("I", bytes(4 * capacity))
        self._mask = capacity - 1
        self._count = 0
        for key, line in old:
            if key != _EMPTY:
                self.first(key, line)
