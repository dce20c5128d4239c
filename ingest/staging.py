"""A tagged shop as the row the load writes: the staged row (its columns, content digest and search
keys) and a first load's new-shop row. Pure Python on the load's hot path, run for every row the
reading side stages (compiled when a build is there: ``kosodate.build_compiled``)."""

from __future__ import annotations

import hashlib
import json
import re
import struct
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, cast

from geo.address import split_address
from geo.prefectures import PREFECTURES
from geo.reading import reading
from geo.text import fold, search_key
from ingest.lifecycle import Standing
from ingest.models import TaggedShop
from search.keys import copy_text, name_codes, name_romaji_key, text_codes

STAGING_COLUMNS = (
    "line", "programme_id", "source", "source_id", "name", "name_kana", "name_key", "kana_key", "address",
    "prefecture", "municipality", "town", "address_rest", "building", "postal_code", "phone", "url",
    "hours", "closed_days", "perk_text", "categories", "amenities", "tags", "card_required", "cards",
    "multi_child", "nationwide", "municipality_code", "lg_code", "lat", "lng", "geocode_precision",
    "geocode_source",
    "location_flags", "registered_on", "expires_on", "withdrawn_on", "closed_on", "status",
    "derive_kana", "content_hash", "romaji_key", "name_codes", "address_codes",
)  # fmt: skip
_TAGS_AT = STAGING_COLUMNS.index("tags") - 1  # position in the hashed body (which has no line)
_ARRAYS_AT = tuple(
    STAGING_COLUMNS.index(c) - 1 for c in ("categories", "amenities", "cards", "location_flags")
)
_json_text = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
# Elements an array's input form can hold unquoted (no space, quote, backslash, brace or comma).
_PLAIN_ELEMENTS = re.compile(r'[^\s"\\{},]+(?:,[^\s"\\{},]+)*\Z')


def array_text(values: Sequence[str]) -> str:
    """A text[] in PostgreSQL's array input form, elements quoted only when they need it."""
    if not values:
        return "{}"
    joined = ",".join(values)
    if _PLAIN_ELEMENTS.match(joined) and "NULL" not in joined.upper():
        return "{" + joined + "}"
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


_AT = {name: i - 1 for i, name in enumerate(STAGING_COLUMNS)}  # positions in the body
# A programme's first load COPYs its rows straight into shops (no staging table, no INSERT ... SELECT:
# ~9% less database CPU a batch, bench/results/ingest_bench.md), in these columns: a staged row's,
# less its line and derive_kana, its point as the location, and what new_shop_row.sql adds for the
# merge (geocoded_at, the run). The rest (status_changed_at, created_at, updated_at: now(); search_text)
# are the table's defaults, as they were for the INSERT.
_LAT, _LNG, _DERIVE = (STAGING_COLUMNS.index(c) for c in ("lat", "lng", "derive_kana"))
SHOP_COLUMNS = (
    *STAGING_COLUMNS[1:_LAT], "location", *STAGING_COLUMNS[_LNG + 1 : _DERIVE],
    *STAGING_COLUMNS[_DERIVE + 1 :], "geocoded_at", "first_run_id", "last_run_id",
)  # fmt: skip
# A geography point in the hex EWKB that kosodate_point(lat, lng) gives: little-endian, a point with
# an SRID (0x20000001), SRID 4326, then longitude and latitude as doubles (tests/ingest/test_first_load.py).
_EWKB_POINT_4326 = "0101000020E6100000"
_point_bytes = struct.Struct("<dd").pack


def new_shop_row(staged: tuple[Any, ...], placed_at: str, run_id: int) -> tuple[Any, ...]:
    """A staged row (``STAGING_COLUMNS``) as a new shop (``SHOP_COLUMNS``); ``placed_at`` is the
    run's now() as text, the time a placed shop was geocoded (the merge writes now() there too)."""
    lat = staged[_LAT]
    if lat is None:
        location = placed = None
    else:
        location, placed = _EWKB_POINT_4326 + _point_bytes(staged[_LNG], lat).hex().upper(), placed_at
    return (
        *staged[1:_LAT], location, *staged[_LNG + 1 : _DERIVE], *staged[_DERIVE + 1 :],
        placed, run_id, run_id,
    )  # fmt: skip


# Status and the current term's end move with the calendar, not with the file: `kosodate lifecycle
# apply` updates them, and the merge compares status on its own, so they stay out of the content hash.
_UNHASHED = (STAGING_COLUMNS.index("expires_on") - 1, STAGING_COLUMNS.index("status") - 1)


@lru_cache(maxsize=4096)
def _reading(name: str) -> str:
    return reading(name)  # chains repeat their names: read each once per process


@lru_cache(maxsize=4096)
def _romaji_key(name: str, kana: str | None) -> str:
    return name_romaji_key(name, kana)


def _row_digest(values: Sequence[Any]) -> str:
    """A digest of a staged row. ``repr`` of str/int/float/bool/None/date/list/dict is stable across
    runs and much cheaper than JSON; the row's values are only ever those types."""
    return hashlib.blake2b(repr(values).encode(), digest_size=20).hexdigest()


def content_hash(values: Sequence[Any]) -> str:
    payload = json.dumps(values, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def staging_row(t: TaggedShop, standing: Standing | None = None, *, keys: bool = False) -> tuple[Any, ...]:
    """A staged row in ``STAGING_COLUMNS`` order. ``keys``: make the search keys now (a missing
    reading, the romaji key, the gram codes) rather than in ``Loader._fill_readings``; the content
    hash is the same either way."""
    g = t.geocoded
    s = g.shop
    parts = split_address(s.address)
    pref_code = parts.prefecture_code
    if pref_code is None and t.municipality_code:
        pref_code = int(t.municipality_code[:2])
    status = standing.status if standing else "active"
    withdrawn_on = standing.withdrawn_on if standing else s.withdrawn_on
    flags = list(g.location_flags) + list(standing.flags if standing else ())
    tags = [{"kind": tag.kind, "value": tag.value, "why": tag.why} for tag in t.tags]
    # The source's reading when it has one. Otherwise one is made from the name, but only for rows
    # that are new or changed (see ``_fill_readings``): a reading costs more than the rest of the row.
    kana = s.name_kana
    name_key = s.name_key or search_key(s.name)
    prefecture = PREFECTURES.get(pref_code) if pref_code else None
    body = [
        t.programme_id, s.source, s.source_id, s.name, kana, name_key,
        search_key(kana) or None, s.address, prefecture,
        parts.municipality, parts.town, parts.rest,
        s.building, s.postal_code, s.phone, s.url, s.hours, s.closed_days, s.perk_text,
        list(t.categories), list(t.amenities), tags, t.card_required, list(t.cards), t.multi_child,
        t.nationwide, t.municipality_code, t.lg_code, g.lat, g.lng, g.precision, g.geocoder, flags,
        s.registered_on, t.expires_on, withdrawn_on, s.closed_on, status, kana is None,
    ]  # fmt: skip
    digest = _row_digest([None if i in _UNHASHED else v for i, v in enumerate(body)])
    # The arrays and the tags go to COPY as text already in PostgreSQL's input form: psycopg's list
    # and JSON dumpers look at every value's type first (COPY formatting 15 -> 4 us a row).
    body[_TAGS_AT] = _json_text(tags)
    for at in _ARRAYS_AT:
        body[at] = array_text(cast("list[str]", body[at]))
    if not keys:
        # The romaji key (like a missing reading) is made later, only for rows the merge will write.
        return (s.line, *body, digest, None, None, None)
    kana, kana_key, romaji, codes, address_codes = search_keys(
        s.name, kana, name_key, prefecture, parts.municipality, s.address
    )
    body[_AT["name_kana"]], body[_AT["kana_key"]] = kana, kana_key
    return (s.line, *body, digest, romaji, codes, address_codes)


def search_keys(
    name: str,
    source_kana: str | None,
    name_key: str,
    prefecture: str | None,
    municipality: str | None,
    address: str,
) -> tuple[str | None, str | None, str | None, str, str]:
    """(reading, its key, romaji key, name codes, address codes) of a shop, the codes in COPY's text
    form: the reading is the source's, else made from the name."""
    kana = source_kana or _reading(name) or None
    kana_key = search_key(kana) or None
    romaji = _romaji_key(name, kana) or None
    return (
        kana, kana_key, romaji, copy_text(name_codes(name_key, kana_key)),
        copy_text(text_codes(fold((prefecture or "") + (municipality or "") + address))),
    )  # fmt: skip
