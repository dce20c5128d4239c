"""The perk taxonomy (categories and amenities with Japanese and English labels), read from TOML.

It lives in ``search`` so both the tagger (``ingest``) and the API (labels for the page) can read it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

from search.errors import KosodateError

CATEGORIES = ("discount", "consideration", "facility")


class TaxonomyError(KosodateError):
    """The taxonomy configuration is malformed."""

    title = "Invalid taxonomy"


@dataclass(frozen=True, slots=True)
class CategoryLabel:
    key: str
    ja: str
    en: str
    description: str


@dataclass(frozen=True, slots=True)
class Amenity:
    key: str
    category: str
    ja: str
    en: str
    words: tuple[str, ...]
    not_before: tuple[str, ...] = ()
    not_after: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Taxonomy:
    categories: dict[str, CategoryLabel]
    amenities: dict[str, Amenity]
    # category -> regular expressions that give the category directly (no amenity)
    rules: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def knows(self, kind: str, value: str) -> bool:
        if kind == "category":
            return value in self.categories
        if kind == "amenity":
            return value in self.amenities
        return False

    def as_json(self) -> dict[str, Any]:
        return {
            "categories": [
                {"key": c.key, "ja": c.ja, "en": c.en, "description": c.description}
                for c in self.categories.values()
            ],
            "amenities": [
                {"key": a.key, "category": a.category, "ja": a.ja, "en": a.en}
                for a in self.amenities.values()
            ],
        }


def _strings(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TaxonomyError(f"taxonomy {where}: expected a list of strings")
    return tuple(value)


def _amenity(key: str, data: Mapping[str, Any], base: Amenity | None) -> Amenity:
    where = f"amenities.{key}"
    category = str(data.get("category", base.category if base else ""))
    if category not in CATEGORIES:
        raise TaxonomyError(f"taxonomy {where}: category must be one of {', '.join(CATEGORIES)}")
    if base is None and not (data.get("ja") and data.get("en")):
        raise TaxonomyError(f"taxonomy {where}: a new amenity needs ja and en labels")
    if not key.replace("_", "").isalpha() or not key.islower():
        raise TaxonomyError(f"taxonomy {where}: keys are lower-case words joined by _")
    old_words = base.words if base else ()
    return Amenity(
        key=key,
        category=category,
        ja=str(data.get("ja", base.ja if base else "")),
        en=str(data.get("en", base.en if base else "")),
        # extension words are added to, not replacing, the built-in ones
        words=tuple(dict.fromkeys([*old_words, *_strings(data.get("words"), where)])),
        not_before=(base.not_before if base else ()) + _strings(data.get("not_before"), where),
        not_after=(base.not_after if base else ()) + _strings(data.get("not_after"), where),
    )


def parse_taxonomy(data: Mapping[str, Any], base: Taxonomy | None = None) -> Taxonomy:
    """Build a taxonomy from TOML data, merged over ``base`` if given."""
    categories = dict(base.categories) if base else {}
    for key, value in (data.get("categories") or {}).items():
        if key not in CATEGORIES:
            raise TaxonomyError(f"taxonomy: unknown category {key!r} (the programmes define {CATEGORIES})")
        categories[key] = CategoryLabel(
            key, str(value["ja"]), str(value["en"]), str(value.get("description", ""))
        )
    amenities = dict(base.amenities) if base else {}
    raw = data.get("amenities") or {}
    if not isinstance(raw, dict):
        raise TaxonomyError("taxonomy: [amenities] must be a table")
    for key, value in raw.items():
        if not isinstance(value, dict):
            raise TaxonomyError(f"taxonomy amenities.{key}: must be a table")
        amenities[key] = _amenity(key, value, amenities.get(key))
    rules = {k: tuple(v) for k, v in (base.rules if base else {}).items()}
    for key, value in (data.get("rules") or {}).items():
        if key not in CATEGORIES:
            raise TaxonomyError(f"taxonomy rules.{key}: unknown category")
        patterns = _strings(value.get("patterns") if isinstance(value, dict) else None, f"rules.{key}")
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise TaxonomyError(f"taxonomy rules.{key}: bad pattern {pattern!r}: {exc}") from exc
        rules[key] = rules.get(key, ()) + patterns
    missing = set(CATEGORIES) - set(categories)
    if missing:
        raise TaxonomyError(f"taxonomy: labels missing for categories {sorted(missing)}")
    return Taxonomy(categories, amenities, rules)


@cache
def builtin_taxonomy() -> Taxonomy:
    text = (files("search") / "taxonomy.toml").read_text(encoding="utf-8")
    return parse_taxonomy(tomllib.loads(text))


def extended_taxonomy(extension: Mapping[str, Any] | None) -> Taxonomy:
    """The built-in taxonomy with a programme's (or operator's) ``[taxonomy]`` table merged in."""
    base = builtin_taxonomy()
    return parse_taxonomy(extension, base) if extension else base
