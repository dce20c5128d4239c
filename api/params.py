"""Query parameters that a hot route reads itself, from one table that also writes their OpenAPI entries.

FastAPI checks each declared parameter through its own validator and dependency solver: about a tenth of
the OGC items page's server CPU (bench/results/api_bench.md). A route that declares its parameters here
reads them in one pass instead, and passes ``openapi_parameters(...)`` as its ``openapi_extra`` so the
published document is made from the same table as the checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from search.errors import InvalidQuery

_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")


@dataclass(frozen=True)
class QueryParam:
    """One query parameter: its JSON Schema (the subset used here) and how a value is read."""

    name: str
    description: str
    kind: Literal["string", "integer"] = "string"
    pattern: str | None = None  # anchored (^...$); the whole value must match
    max_length: int | None = None
    minimum: int | None = None
    enum: tuple[str, ...] | None = None
    many: bool = False  # repeated (?amenity=a&amenity=b); a single parameter keeps its last value
    max_items: int | None = None
    _regex: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.pattern is not None:
            if not (self.pattern.startswith("^") and self.pattern.endswith("$")):
                raise ValueError(f"{self.name}: the pattern must be anchored, as JSON Schema reads it")
            object.__setattr__(self, "_regex", re.compile(self.pattern))

    def openapi(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": self.kind}
        if self.pattern is not None:
            schema["pattern"] = self.pattern
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.enum is not None:
            schema["enum"] = list(self.enum)
        if self.many:
            schema = {"type": "array", "items": schema}
            if self.max_items is not None:
                schema["maxItems"] = self.max_items
        return {
            "name": self.name,
            "in": "query",
            "required": False,
            "description": self.description,
            "schema": schema,
        }

    def read(self, values: Sequence[str]) -> Any:
        if not self.many:
            return self._one(values[-1])
        if self.max_items is not None and len(values) > self.max_items:
            raise InvalidQuery(f"{self.name}: at most {self.max_items} values")
        return [self._one(v) for v in values]

    def _one(self, value: str) -> str | int:
        if self.kind == "integer":
            if not _INTEGER.fullmatch(value):
                raise InvalidQuery(
                    f"{self.name}: must be a whole number (at most 18 digits), not {value[:40]!r}"
                )
            number = int(value)
            if self.minimum is not None and number < self.minimum:
                raise InvalidQuery(f"{self.name}: must be at least {self.minimum}")
            return number
        if self.max_length is not None and len(value) > self.max_length:
            raise InvalidQuery(f"{self.name}: at most {self.max_length} characters")
        if self.enum is not None and value not in self.enum:
            raise InvalidQuery(f"{self.name}: must be one of {', '.join(self.enum)}")
        if self._regex is not None and not self._regex.fullmatch(value):
            raise InvalidQuery(f"{self.name}: {value[:40]!r} does not match {self.pattern}")
        return value


def openapi_parameters(params: Iterable[QueryParam]) -> dict[str, Any]:
    """The route's ``openapi_extra``: these parameters in its OpenAPI operation."""
    return {"parameters": [p.openapi() for p in params]}


def read_params(params: Sequence[QueryParam], pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Every parameter by name (None when absent); a name not in the table is a 400."""
    known = {p.name: p for p in params}
    raw: dict[str, list[str]] = {}
    for key, value in pairs:
        if key not in known:
            raise InvalidQuery(f"unknown query parameter: {key[:60]}")
        raw.setdefault(key, []).append(value)
    return {name: (p.read(raw[name]) if name in raw else None) for name, p in known.items()}
