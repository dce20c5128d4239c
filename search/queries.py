"""Pure query builders: each returns a statement; the caller (sync CLI or async API) runs it.

Every value is a bound parameter. One small function per filter returns a clause or ``None``; the
clauses are ANDed. Keyword words are matched against ``shops.search_text`` (name, reading, romaji and
the folded address, see migration ``i6_search``):

* a 1- or 2-character word uses the gram-code GIN indexes (``name_codes`` of any name length, or
  ``address_codes``; see ``search.keys`` and migration ``s3_3_gram_codes``);
* a longer word uses ``LIKE '%word%'``: in the names through their trigram GIN index
  (``shops_names_trgm``), in the address through ``address_codes`` holding all its pairs (migration
  ``s7_3_names_trgm``); LIKE on ``search_text`` decides either way;
* a latin word also matches as folded romaji (``sushiroo`` -> ``sushiro``) and a kana word also
  matches through its romaji (``すしろう`` finds スシロー);
* the optional typo pass (one edit, words of 4+ characters) uses trigram word similarity on the
  names to find candidates and a regular expression that allows exactly one edit to confirm them.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    cast,
    false,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import BigInteger, Float, Integer, Text, Time

from geo.reading import romaji
from search import keys
from search.cards import card_clause
from search.contract import BBox, SearchRequest, Sort
from search.keys import (
    ALL_LENGTH_TAGS,
    is_kana,
    is_latin,
    length_tags,
    query_tokens,
    romaji_key,
    tagged,
    word_codes,
)
from search.tables import ShopStatus, programmes, shops

# The request type under its older name (kept for callers written against the foundation).
ShopQuery = SearchRequest

FUZZY_MIN_CHARS = 4
FUZZY_SIMILARITY = 0.3
FUZZY_BELOW = 10  # the typo pass runs when exact words find fewer shops than this
BIGRAM_MAX_CHARS = 2
NAMES_FIRST = True  # one short word without a place: names first (names_first_search)
PLACE_WORDS = True  # several words: a word naming the shop's municipality/prefecture scores as exact


def query_point() -> ColumnElement[object]:
    return func.kosodate_point(bindparam("lat"), bindparam("lng"))


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def word_variants(token: str) -> list[str]:
    """The folded forms a query word may take in ``search_text``."""
    variants = [token]
    if is_latin(token):
        variants.append(romaji_key(token))
    elif is_kana(token) and len(token) >= BIGRAM_MAX_CHARS:
        variants.append(romaji_key(romaji(token)))
    return [v for v in dict.fromkeys(variants) if v]


def one_edit_regex(token: str) -> str:
    """A POSIX regular expression matching ``token`` with at most one substitution/insertion/deletion."""
    chars = [re.escape(c) for c in token]
    branches = {"".join(chars)}
    for i in range(len(chars)):
        branches.add("".join(chars[:i]) + "." + "".join(chars[i + 1 :]))  # substitution
        branches.add("".join(chars[:i]) + "".join(chars[i + 1 :]))  # the query has one extra
        branches.add("".join(chars[:i]) + "." + "".join(chars[i:]))  # the query misses one
    return "(" + "|".join(sorted(branches)) + ")"


class _Binds:
    """Unique bind names for one statement."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, prefix: str, value: Any, type_: Any = None) -> BindParameter[Any]:
        self.n += 1
        return bindparam(f"{prefix}_{self.n}", value, type_=type_)


def _in_address(variant: str, binds: _Binds) -> ColumnElement[bool]:
    """The folded address holds every gram code of the word (its character, or all its pairs)."""
    return shops.c.address_codes.op("@>")(binds("acodes", word_codes(variant), ARRAY(BigInteger)))


def _in_names_or_address(variant: str, binds: _Binds) -> ColumnElement[bool]:
    """Rows whose names (of any length) or address hold every gram code of a 1-2 character word.
    Such a word has one code, so "names of any length" is an overlap with its tagged forms."""
    tagged_codes = [tagged(c, t) for c in word_codes(variant) for t in ALL_LENGTH_TAGS]
    in_names = shops.c.name_codes.op("&&")(binds("ncodes", tagged_codes, ARRAY(BigInteger)))
    return or_(in_names, _in_address(variant, binds))


def names_text() -> ColumnElement[str]:
    """The three name keys as one text, the start of ``search_text`` (what ``shops_names_trgm``
    indexes; migration ``s7_3_names_trgm``)."""
    return func.kosodate_names_text(shops.c.name_key, shops.c.kana_key, shops.c.romaji_key, type_=Text)


def _variant_match(variant: str, binds: _Binds, *, spatial: bool) -> ColumnElement[bool]:
    pattern = f"%{_escape_like(variant)}%"
    like = shops.c.search_text.like(binds("like", pattern), escape="\\")
    # Inside a radius or map area the spatial index leads and LIKE filters its rows (measured faster
    # than combining with the bigram index, whose posting lists for common characters are long).
    if len(variant) <= BIGRAM_MAX_CHARS:
        # In a name or reading, in the address, or at the start of the romaji key (not inside it:
        # ``_inside_keys``). The indexes find the rows; LIKE on the search text keeps the answer
        # exactly the text's (the codes are made in Python at load, the search text in SQL).
        if spatial:  # filters on the rows the spatial index finds
            where = or_(_inside_name([variant], binds), _in_address(variant, binds))
        else:
            where = _in_names_or_address(variant, binds)
        at_start = _at_start_of_keys(variant, binds)
        if at_start is not None:
            where = or_(where, at_start)
        return and_(like, where)
    if spatial:
        return like
    # In the names (their trigram index), or in the address (its codes hold all the word's pairs).
    in_names = names_text().like(binds("nlike", pattern), escape="\\")
    return or_(in_names, and_(_in_address(variant, binds), like))


def _fuzzy_match(token: str, binds: _Binds) -> ColumnElement[bool]:
    """One edit away from ``token``, in the names (an address word with a typo is not looked for)."""
    word, names = binds("fuzzy", token), names_text()
    return and_(word.op("<%")(names), names.op("~")(binds("edit", one_edit_regex(token))))


def keyword_clauses(request: SearchRequest, binds: _Binds, *, fuzzy: bool) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    for token in query_tokens(request.q):
        spatial = request.bbox is not None or (request.has_point and request.radius_m is not None)
        options = [_variant_match(v, binds, spatial=spatial) for v in word_variants(token)]
        if fuzzy and len(token) >= FUZZY_MIN_CHARS:
            options.append(_fuzzy_match(token, binds))
        clauses.append(or_(*options))
    return clauses


def has_fuzzy_words(request: SearchRequest) -> bool:
    return any(len(t) >= FUZZY_MIN_CHARS for t in query_tokens(request.q))


NAME_KEYS = (shops.c.name_key, shops.c.kana_key, shops.c.romaji_key)
_PLACE_SUFFIXES = "市区町村"


def _front_of_name(
    variants: list[str], binds: _Binds, keys: tuple[ColumnElement[Any], ...] = NAME_KEYS
) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(exact, prefix): a name key equals a variant / starts with one (b-tree ``*_key_prefix``)."""
    exact = or_(*(k == binds("w", v) for k in keys for v in variants))
    return exact, _starts_with(variants, binds, keys)


def _starts_with(
    variants: list[str], binds: _Binds, keys: tuple[ColumnElement[Any], ...]
) -> ColumnElement[bool]:
    """A name key starts with a variant (b-tree ``*_key_prefix``)."""
    return or_(*(k.like(binds("p", _escape_like(v) + "%"), escape="\\") for k in keys for v in variants))


def _inside_keys(variant: str) -> tuple[ColumnElement[Any], ...]:
    """The name keys a word is looked for inside: all three for a word of three or more characters; a
    word of two not inside the romaji key, whose codes are not stored (migration
    ``s7_3_name_codes_no_romaji``); a word of one only inside the name, the reading's single
    characters not being stored either (``s9_3_name_codes_reading_pairs``). Either still meets those
    keys at their start (``_front_of_name``, ``_at_start_of_keys``: type-ahead)."""
    if len(variant) > BIGRAM_MAX_CHARS:
        return NAME_KEYS
    return NAME_KEYS[:2] if len(variant) == BIGRAM_MAX_CHARS else NAME_KEYS[:1]


def _at_start_of_keys(variant: str, binds: _Binds) -> ColumnElement[bool] | None:
    """A short word at the start of the name keys it is not looked for inside (b-tree prefix): the
    romaji key for a latin word only, the reading for a kana or latin one (what readings hold). A
    kanji never starts a reading, and asking for it anyway cost a count over the whole country half
    as much again (駅 4 -> 6 ms, 湯 9 -> 13 ms at 300,000 shops: bench/results/search_bench_notes.md)."""
    outside = NAME_KEYS[len(_inside_keys(variant)) :]  # _inside_keys gives the first keys of NAME_KEYS
    latin = is_latin(variant)
    reading = latin or is_kana(variant)
    keys = tuple(
        key
        for key in outside
        if (key is not shops.c.romaji_key or latin) and (key is not shops.c.kana_key or reading)
    )
    return _starts_with([variant], binds, keys) if keys else None


def _inside_name(variants: list[str], binds: _Binds) -> ColumnElement[bool]:
    return or_(
        *(
            k.like(binds("i", "%" + _escape_like(v) + "%"), escape="\\")
            for v in variants
            for k in _inside_keys(v)
        )
    )


def place_patterns(token: str) -> tuple[str, str] | None:
    """Regular expressions (municipality, prefecture) a word naming a place matches: 白山 → 白山市,
    中区 → 横浜市中区, 川北 → 能美郡川北町, 横浜市 → 横浜市中区, 石川 → 石川県. None for latin words
    (places are stored in kanji and kana)."""
    if is_latin(token):
        return None
    word = re.escape(token)
    city = "(^|市|郡)" + word + ("" if token[-1] in _PLACE_SUFFIXES else f"[{_PLACE_SUFFIXES}]")
    return city, f"^{word}[都道府県]?$"


def names_place(token: str, binds: _Binds) -> ColumnElement[bool] | None:
    """The word names the shop's municipality or prefecture (see ``place_patterns``)."""
    patterns = place_patterns(token)
    if patterns is None:
        return None
    city, pref = patterns
    return or_(
        func.kosodate_fold(shops.c.municipality).op("~")(binds("city", city)),
        func.kosodate_fold(shops.c.prefecture).op("~")(binds("pref", pref)),
    )


def _word_score(token: str, binds: _Binds, *, place: bool) -> ColumnElement[Any]:
    """0 exact name (or, with ``place``, the shop's municipality/prefecture), 1 name prefix
    (type-ahead), 2 inside the name or reading, 3 address or typo."""
    variants = word_variants(token)
    exact, prefix = _front_of_name(variants, binds)
    in_place = names_place(token, binds) if place else None
    if in_place is not None:
        exact = or_(exact, in_place)
    return case((exact, 0), (prefix, 1), (_inside_name(variants, binds), 2), else_=3)


def text_score(request: SearchRequest, binds: _Binds) -> ColumnElement[Any] | None:
    """Per word scores summed. In a query of several words a word may name the place (藤沢 ラーメン):
    a shop in that municipality meets it exactly, above a shop elsewhere with the word in its name."""
    tokens = query_tokens(request.q)
    if not tokens:
        return None
    total: ColumnElement[Any] = literal(0, Integer)
    for token in tokens:
        total = total + _word_score(token, binds, place=PLACE_WORDS and len(tokens) > 1)
    return total


# Place and filters: one small function each.


def live() -> ColumnElement[bool]:
    # A literal, not a bind: the partial indexes (WHERE status = 'active') must match even in a
    # generic plan of a prepared statement (psycopg prepares repeated statements).
    active = literal(ShopStatus.ACTIVE.value, Text).compile(compile_kwargs={"literal_binds": True})
    return and_(shops.c.status == literal_column(str(active)), shops.c.location.is_not(None))


def within_radius(request: SearchRequest) -> ColumnElement[bool] | None:
    if not request.has_point or request.radius_m is None:
        return None
    return func.ST_DWithin(shops.c.location, query_point(), bindparam("radius_m", request.radius_m))


def within_bbox(request: SearchRequest) -> ColumnElement[bool] | None:
    box: BBox | None = request.bbox
    if box is None:
        return None
    envelope = func.ST_MakeEnvelope(
        bindparam("bbox_w", box.west, Float),
        bindparam("bbox_s", box.south, Float),
        bindparam("bbox_e", box.east, Float),
        bindparam("bbox_n", box.north, Float),
        4326,
    )
    # A map box is a lon/lat rectangle: compared as geometry (indexed by shops_live_geom). As geography
    # its edges would be great circles, and a box 180 degrees wide has no such edge (a 500).
    return func.geometry(shops.c.location).op("&&")(envelope)


def in_municipality(request: SearchRequest) -> ColumnElement[bool] | None:
    if not request.municipality:
        return None
    return shops.c.municipality_code == bindparam("municipality", request.municipality[:5])


def in_categories(request: SearchRequest) -> ColumnElement[bool] | None:
    if not request.categories:
        return None
    return shops.c.categories.contains(bindparam("categories", list(request.categories), type_=ARRAY(Text)))


def with_amenities(request: SearchRequest) -> ColumnElement[bool] | None:
    if not request.amenities:
        return None
    return shops.c.amenities.contains(bindparam("amenities", list(request.amenities), type_=ARRAY(Text)))


def in_programme(request: SearchRequest) -> ColumnElement[bool] | None:
    if not request.programme:
        return None
    ids = select(programmes.c.id).where(programmes.c.code == bindparam("programme", request.programme))
    return shops.c.programme_id == ids.scalar_subquery()


def for_family(request: SearchRequest) -> ColumnElement[bool] | None:
    if not request.card:
        return None
    return card_clause(request.card, request.multi_child)


def perk_kind(request: SearchRequest) -> ColumnElement[bool] | None:
    """特典 (the card must be shown; unknown counts as 特典) or 応援 (for every family)."""
    if request.card_required is None:
        return None
    if request.card_required:
        return shops.c.card_required.is_not(false())
    return shops.c.card_required.is_(false())


def open_at(request: SearchRequest) -> ColumnElement[bool] | None:
    """Open at the given local time; shops whose hours cannot be read are left out."""
    if request.open_at is None:
        return None
    return func.kosodate_open_at(shops.c.hours, bindparam("open_at", request.open_at, Time)).is_(true())


FILTERS = (
    within_radius,
    within_bbox,
    in_municipality,
    in_categories,
    with_amenities,
    in_programme,
    for_family,
    perk_kind,
    open_at,
)


def place_and_filters(request: SearchRequest) -> ColumnElement[bool]:
    return and_(live(), *[c for c in (f(request) for f in FILTERS) if c is not None])


def where_clause(request: SearchRequest, binds: _Binds, *, fuzzy: bool = False) -> ColumnElement[bool]:
    return and_(place_and_filters(request), *keyword_clauses(request, binds, fuzzy=fuzzy))


def _hit_columns(request: SearchRequest) -> list[ColumnElement[Any]]:
    distance = func.ST_Distance(shops.c.location, query_point()) if request.has_point else cast(null(), Float)
    return [
        shops.c.id,
        shops.c.name,
        shops.c.name_kana,
        shops.c.address,
        func.ST_Y(func.geometry(shops.c.location)).label("lat"),
        func.ST_X(func.geometry(shops.c.location)).label("lng"),
        distance.label("distance_m"),
        shops.c.categories,
        shops.c.amenities,
        select(programmes.c.code)
        .where(programmes.c.id == shops.c.programme_id)
        .scalar_subquery()
        .label("programme"),
        shops.c.municipality_code,
        shops.c.municipality,
        shops.c.geocode_precision.label("precision"),
        shops.c.perk_text,
        shops.c.card_required,
        shops.c.hours,
        shops.c.source,
        shops.c.name_key,
    ]


def shop_search(request: SearchRequest, *, fuzzy: bool = False) -> Select[Any]:
    """One statement for keyword + place + filters, ordered deterministically (ties by id).

    * no keyword, or ``sort=distance``: nearest first by radius-capped KNN (``<->``), then the exact
      spheroid distance that is reported;
    * a map area without keyword or point: nearest the middle of the area first;
    * keyword and relevance: text score (exact name, name prefix, inside name/reading, address or
      typo), blended with distance as a fraction of the radius when a point is given.
    """
    if uses_names_first(request, fuzzy=fuzzy):
        return names_first_search(request)
    binds = _Binds()
    where = where_clause(request, binds, fuzzy=fuzzy)
    window = request.offset + request.limit
    score = text_score(request, binds)
    if request.has_point and (score is None or request.sort is Sort.DISTANCE):
        knn = (
            select(*_hit_columns(request))
            .where(where)
            # <-> alone (no tie-breaker) lets the GiST index return rows in order and stop at the
            # window; the outer query orders the window by exact distance, then id.
            .order_by(shops.c.location.op("<->")(query_point()))
            .limit(bindparam("window", window))
            .subquery("knn")
        )
        return (
            select(*[c for c in knn.c if c.key != "name_key"])
            .order_by(knn.c.distance_m, knn.c.id)
            .offset(bindparam("offset", request.offset))
            .limit(bindparam("limit", request.limit))
        )
    stmt = select(*_hit_columns(request)).where(where)
    if score is None and request.bbox is not None:
        # A map area without a keyword: nearest the middle of the area first (the spatial index
        # walks outwards; ordering by id would scan the primary key and filter, slow for sparse areas).
        box = request.bbox
        middle = func.kosodate_point(
            bindparam("mid_lat", (box.south + box.north) / 2, Float),
            bindparam("mid_lng", (box.west + box.east) / 2, Float),
        )
        order: list[ColumnElement[Any]] = [shops.c.location.op("<->")(middle), shops.c.id]
    elif score is None:
        order = [shops.c.id]
    elif request.has_point:
        reach = float(request.radius_m or 10_000)
        blended = cast(score, Float) + func.ST_Distance(shops.c.location, query_point()) / bindparam(
            "reach", reach, Float
        )
        order = [blended, shops.c.id]
    else:
        order = [score, func.length(shops.c.name_key), shops.c.id]
    page = stmt.order_by(*order).offset(bindparam("offset", request.offset))
    ranked = page.limit(bindparam("limit", request.limit)).subquery("ranked")
    return select(*[c for c in ranked.c if c.key != "name_key"])


def uses_names_first(request: SearchRequest, *, fuzzy: bool = False) -> bool:
    """One short word (1-2 characters, and so are its variants) with no point or map area: names are
    asked first. A two-kana word (すし) also matches through its romaji (sushi), which only the
    names' trigram index finds; mixing that always-rechecked index with the names grams cost seconds, so
    such words take the general statement."""
    tokens = query_tokens(request.q)
    return (
        NAMES_FIRST
        and len(tokens) == 1
        and all(len(v) <= BIGRAM_MAX_CHARS for v in word_variants(tokens[0]))
        and not fuzzy
        and not request.has_point
        and request.bbox is None
    )


# The bands of name length the names tier is read in, shortest first: those the names' codes are
# tagged with, so each band's probe asks one tag.
NAME_BANDS = keys.NAME_BANDS


def _in_names(variants: list[str], binds: _Binds, band: tuple[int, int]) -> ColumnElement[bool]:
    """A name key of a length within ``band`` holds a variant (all 1-2 characters). The LIKEs on the
    keys and the length decide; one probe of the names code index (each variant's code with the tag
    of each length of the band: one tag when the band is one of ``NAME_BANDS``, the bands the codes
    are tagged with) finds the rows."""
    low, high = band
    keys = [tagged(c, t) for v in variants for c in word_codes(v) for t in length_tags(low, high)]
    probe = shops.c.name_codes.op("&&")(binds("ngrams", keys, ARRAY(BigInteger)))
    in_band = func.least(func.length(shops.c.name_key), 31).between(low, high)
    return and_(_inside_name(variants, binds), in_band, probe)


def names_first_search(request: SearchRequest) -> Select[Any]:
    """The same page as the general keyword order (score, name length, id), found in tiers whose
    order does not overlap, each read only when those before it found fewer rows than the page needs
    (a one-time filter on their count):

    1. names that equal or start with the word (b-tree ``*_key_prefix``; score 0/1);
    2. names holding it (score 2), band by band of name length (``NAME_BANDS``), each band one probe
       of the length-tagged names code index ``shops_name_codes``;
    3. the address (score 3; the general statement's index).

    The tiers carry ids only; the page's rows are read once at the end. So a common character such
    as 駅 is answered from a few short names without reading every shop that holds it.
    """
    binds = _Binds()
    token = query_tokens(request.q)[0]
    variants = word_variants(token)
    window: BindParameter[int] = bindparam("window", request.offset + request.limit)
    filters = place_and_filters(request)
    exact, prefix = _front_of_name(variants, binds)
    length = func.length(shops.c.name_key).label("name_len")

    front_tier = case((exact, 0), else_=1).label("tier")
    front = (
        select(shops.c.id, front_tier, length)
        .where(filters, prefix)
        .order_by(front_tier, length, shops.c.id)
        .limit(window)
        .cte("front")
    )
    # A running total of the rows found so far, one small CTE per tier (so the statement grows with
    # the number of tiers, not with its square).
    total = select(func.count().label("n")).select_from(front).cte("found_front")
    tiers: list[Select[Any]] = [select(front)]
    for i, band in enumerate(NAME_BANDS):
        found = select(total.c.n).scalar_subquery()
        tier = (
            select(shops.c.id, literal(2, Integer).label("tier"), length)
            .where(filters, _in_names(variants, binds, band), prefix.is_not(true()), found < window)
            .order_by(length, shops.c.id)
            .limit(window)
            .cte(f"names_{i}")
        )
        tiers.append(select(tier))
        total = select((found + func.count()).label("n")).select_from(tier).cte(f"found_{i}")
    found = select(total.c.n).scalar_subquery()
    address = (
        select(shops.c.id, literal(3, Integer).label("tier"), length)
        .where(
            where_clause(request, binds),
            _inside_name(variants, binds).is_not(true()),
            prefix.is_not(true()),
            found < window,
        )
        .order_by(length, shops.c.id)
        .limit(window)
    )
    union = union_all(*tiers, address).subquery("tiers")
    page = (
        select(union)
        .order_by(union.c.tier, union.c.name_len, union.c.id)
        .offset(bindparam("offset", request.offset))
        .limit(bindparam("limit", request.limit))
        .subquery("page")
    )
    cols = [c for c in _hit_columns(request) if c.key != "name_key"]
    return (
        select(*cols)
        .select_from(page.join(shops, shops.c.id == page.c.id))
        .order_by(page.c.tier, page.c.name_len, page.c.id)
    )


def search_params(request: SearchRequest) -> dict[str, object]:
    """Bind values not carried by the statement itself (the query point)."""
    if request.has_point:
        return {"lat": request.lat, "lng": request.lng}
    return {}


ARRAY_FACETS = {"category": shops.c.categories, "amenity": shops.c.amenities}
SCALAR_FACETS = {
    "municipality": shops.c.municipality_code,
    "programme": select(programmes.c.code).where(programmes.c.id == shops.c.programme_id).scalar_subquery(),
}


def count_and_facets(
    request: SearchRequest, facets: tuple[str, ...], cap: int, *, fuzzy: bool = False
) -> Select[Any]:
    """Rows ``(facet, value, n)``: ``('', '', n)`` counts the matches up to ``cap + 1``; the facet
    counts cover the same (capped) set, so they are exact whenever the total is."""
    binds = _Binds()
    where = where_clause(request, binds, fuzzy=fuzzy)
    columns: list[ColumnElement[Any]] = [shops.c.id]
    columns += [{**ARRAY_FACETS, **SCALAR_FACETS}[f].label(f"f_{f}") for f in facets]
    matched = select(*columns).where(where).limit(bindparam("cap", cap + 1)).cte("matched")
    parts: list[Select[str, str, int]] = [
        select(literal("").label("facet"), literal("").label("value"), func.count().label("n")).select_from(
            matched
        )
    ]
    for f in facets:
        col = matched.c[f"f_{f}"]
        if f in ARRAY_FACETS:
            value = func.unnest(col).table_valued("value").render_derived(name=f"v_{f}")
            parts.append(
                select(literal(f), value.c.value, func.count())
                .select_from(matched)
                .join(value, true())
                .group_by(value.c.value)
            )
        else:
            parts.append(
                select(literal(f), cast(col, Text), func.count())
                .select_from(matched)
                .where(col.is_not(None))
                .group_by(col)
            )
    return select(union_all(*parts).subquery("facets"))


def few_matches(request: SearchRequest, cap: int) -> Select[Any]:
    """How many shops match the exact words, counting no further than ``cap``."""
    binds = _Binds()
    inner = select(shops.c.id).where(where_clause(request, binds)).limit(cap).subquery("exact")
    return select(func.count()).select_from(inner)


def estimated_count(request: SearchRequest) -> Select[Any]:
    """The planner's estimate of the matches (run under EXPLAIN when the exact count is capped)."""
    binds = _Binds()
    return select(func.count()).select_from(shops).where(where_clause(request, binds))


def shop_detail() -> Select[Any]:
    hidden = (
        "location", "content_hash", "name_key", "kana_key", "romaji_key", "search_text", "name_codes",
        "address_codes",
    )  # fmt: skip
    cols = [c for c in shops.c if c.name not in hidden]
    return (
        select(
            *cols,
            programmes.c.code.label("programme"),
            programmes.c.name.label("programme_name"),
            func.ST_Y(func.geometry(shops.c.location)).label("lat"),
            func.ST_X(func.geometry(shops.c.location)).label("lng"),
        )
        .select_from(shops.join(programmes, programmes.c.id == shops.c.programme_id))
        .where(shops.c.id == bindparam("shop_id"), shops.c.status == ShopStatus.ACTIVE.value)
    )
