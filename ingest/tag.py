"""The tag stage: perk categories, amenities (each with its reason) and cards.

* Amenities come from the source's structured flags when it has a flag for that amenity (a flag that
  says "false" is believed over the text), otherwise from the free perk text (``ingest.perks``).
* Categories come from the amenities (the taxonomy gives each its category) and from the text's own
  discount / consideration words; a file may also declare them.
* Card rules (``ingest.card_rules``): which cards are honoured, whether the card must be shown
  (特典) or not (応援), whether the perk is only for multi-child households, the nationwide scheme.

Every tag records why: the flag, the declaration or the words.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date

from ingest.card_rules import AUDIENCE_FLAGS, NATIONWIDE_FLAG, decide_cards, segments
from ingest.jurisdiction import Jurisdiction
from ingest.models import GeocodedShop, Tag, TaggedShop
from ingest.perks import PerkReader
from ingest.programmes import Programme
from search.taxonomy import CATEGORIES, extended_taxonomy

TRUE_VALUES = frozenset({"true", "1", "yes", "y", "○", "〇", "◯", "有", "あり", "可", "t"})
NOT_AMENITY_FLAGS = frozenset({*AUDIENCE_FLAGS, NATIONWIDE_FLAG})


def flag_true(value: str) -> bool:
    return value.strip().lower() in TRUE_VALUES


_READERS: dict[str, PerkReader] = {}
# The reader of the programme last asked about (a run asks for every row): the same object, so the
# taxonomy's key is not written out again for each row.
_LAST: list[tuple[Programme, PerkReader]] = []


def programme_reader(programme: Programme) -> PerkReader:
    """One reader (and one Sudachi tokenizer) per taxonomy, built on first use."""
    last = _LAST[:1]
    if last and last[0][0] is programme:
        return last[0][1]
    extension = programme.raw.get("taxonomy") or {}
    key = json.dumps(extension, sort_keys=True, ensure_ascii=False)
    if key not in _READERS:
        _READERS[key] = PerkReader(extended_taxonomy(extension))
    _LAST[:] = [(programme, _READERS[key])]
    return _READERS[key]


def derive(
    reader: PerkReader,
    perk_text: str | None,
    flags: Mapping[str, str],
    declared_categories: Iterable[str] = (),
    declared_amenities: Iterable[str] = (),
) -> list[Tag]:
    """Category and amenity tags (and ``negated`` notes), one reason each, first reason wins."""
    taxonomy = reader.taxonomy
    tags: list[Tag] = [Tag("category", c, "declared in the file") for c in declared_categories]
    tags += [Tag("amenity", a, "declared in the file") for a in declared_amenities]
    flagged = {a for a in flags if a in taxonomy.amenities}
    tags += [Tag("amenity", a, f"flag {a}") for a in sorted(flagged) if flag_true(flags[a])]
    for segment in segments(perk_text or ""):
        for found in reader.read(segment.text):
            if found.kind in ("amenity", "negated") and found.value in flagged:
                continue  # the source's structured flag decides this amenity
            why = f"{segment.marker} {found.why}" if segment.marker else found.why
            tags.append(Tag(found.kind, found.value, why))
    for t in list(tags):
        if t.kind == "amenity" and t.value in taxonomy.amenities:
            tags.append(Tag("category", taxonomy.amenities[t.value].category, f"amenity {t.value}"))
    seen: dict[tuple[str, str], Tag] = {}
    for t in tags:
        if t.kind == "category" and t.value not in CATEGORIES:
            continue
        seen.setdefault((t.kind, t.value), t)
    given = {v for k, v in seen if k == "amenity"}
    return [t for t in seen.values() if not (t.kind == "negated" and t.value in given)]


def _first_march_31_after(day: date) -> date:
    end = date(day.year, 3, 31)
    return end if end > day else date(day.year + 1, 3, 31)


def tag(
    shop: GeocodedShop,
    programme: Programme,
    programme_id: int,
    flags: dict[str, str],
    jurisdiction: Jurisdiction,
    today: date | None = None,
) -> TaggedShop:
    """Perk categories, amenities (each with its reason) and cards for a shop already placed."""
    today = today or date.today()
    s = shop.shop
    amenity_flags = {k: v for k, v in flags.items() if k not in NOT_AMENITY_FLAGS}
    tags = derive(programme_reader(programme), s.perk_text, amenity_flags, s.declared_categories,
                  s.declared_amenities)  # fmt: skip
    cards = decide_cards(programme, s.perk_text or "", flags, tags)
    tags += cards.tags
    categories = tuple(sorted({t.value for t in tags if t.kind == "category"}))
    amenities = tuple(sorted({t.value for t in tags if t.kind == "amenity"}))
    registered = s.registered_on
    expires = None
    if registered and programme.lifecycle.get("expiry") == "first_march_31_after_registration":
        expires = _first_march_31_after(registered)
        # Registrations renew a year at a time unless the shop withdraws: report the current term.
        step = int(programme.lifecycle.get("auto_extend_years", 0))
        while step and expires < today:
            expires = date(expires.year + step, 3, 31)
    return TaggedShop(
        geocoded=shop,
        programme_id=programme_id,
        categories=categories,
        amenities=amenities,
        tags=tuple(tags),
        cards=cards.cards,
        card_required=cards.card_required,
        multi_child=cards.multi_child,
        municipality_code=jurisdiction.municipality_code,
        lg_code=jurisdiction.lg_code,
        expires_on=expires,
        handoff=jurisdiction.handoff,
        nationwide=cards.nationwide,
    )
