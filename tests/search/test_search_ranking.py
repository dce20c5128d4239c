"""Names first: the tiered search for one short word gives exactly the page the general order gives.

The general keyword order (text score, name length, id) is the reference; ``names_first_search``
must return the same ids in the same order for every page, whether the names fill the page or the
address tier has to run. Checked on the real Ishikawa 2017 list (addresses hold many of these words).
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from ingest.pipeline import ingest_file
from ingest.programmes import load_programme
from search import queries
from search.contract import SearchRequest
from tests.conftest import shared_file


@pytest.fixture
def ishikawa(engine: Engine) -> Engine:
    ingest_file(engine, shared_file("shops", "ishikawa_prepass_2017_shared.csv"), load_programme("ishikawa"))
    return engine


def _ids(engine: Engine, request: SearchRequest, *, names_first: bool) -> list[int]:
    stmt = queries.names_first_search(request) if names_first else queries.shop_search(request, fuzzy=False)
    with engine.connect() as conn:
        return [int(r.id) for r in conn.execute(stmt, queries.search_params(request))]


def _general(engine: Engine, request: SearchRequest, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    with monkeypatch.context() as m:
        m.setattr(queries, "NAMES_FIRST", False)
        return _ids(engine, request, names_first=False)


WORDS = ("駅", "森", "湯", "寿司", "薬局", "金沢", "す", "ｶ", "あ", "ab", "川北", "ゑ", "x")


def test_same_pages_as_the_general_order(ishikawa: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    found = set()
    for word in WORDS:
        assert queries.uses_names_first(SearchRequest(q=word)), word
        for offset, limit in ((0, 5), (0, 20), (20, 20), (7, 50), (200, 30)):
            request = SearchRequest(q=word, offset=offset, limit=limit)
            expected = _general(ishikawa, request, monkeypatch)
            # Names read in the length bands, in bands of one length each, or all at once.
            for bands in (queries.NAME_BANDS, tuple((n, n) for n in range(1, 32)), ((1, 31),)):
                monkeypatch.setattr(queries, "NAME_BANDS", bands)
                got = _ids(ishikawa, request, names_first=True)
                assert got == expected, (word, offset, limit, bands)
            if expected:
                found.add(word)
    assert found >= set(WORDS) - {"ゑ", "ab", "x"}  # the words are found at all


def test_address_tier_runs_when_names_are_few(ishikawa: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    # 川北 is a town (能美郡川北町): few names hold it, many addresses do.
    request = SearchRequest(q="川北", limit=50)
    with ishikawa.connect() as conn:
        rows = conn.execute(queries.names_first_search(request), queries.search_params(request)).all()
    in_name = [r for r in rows if "川北" in r.name]
    assert rows and len(in_name) < len(rows)  # the page needed addresses
    assert rows[: len(in_name)] == in_name  # names first


def test_filters_apply_in_every_tier(ishikawa: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    request = SearchRequest(q="駅", categories=("discount",), limit=40)
    expected = _general(ishikawa, request, monkeypatch)
    with ishikawa.connect() as conn:
        rows = conn.execute(queries.names_first_search(request), queries.search_params(request)).all()
    assert [r.id for r in rows] == expected
    assert all("discount" in r.categories for r in rows)


def test_only_short_single_words_without_a_place() -> None:
    assert not queries.uses_names_first(SearchRequest(q="寿司 金沢"))
    assert not queries.uses_names_first(SearchRequest(q="らーめん"))
    assert not queries.uses_names_first(SearchRequest(q="すし"))  # its romaji (sushi) needs trigrams
    assert not queries.uses_names_first(SearchRequest(q="駅", lat=36.5, lng=136.6, radius_m=1000))
    assert queries.uses_names_first(SearchRequest(q="駅", municipality="17201"))


@pytest.mark.parametrize(
    ("q", "place"), [("薬局 白山", "白山市"), ("湯 七尾", "七尾市"), ("金沢 らーめん", "金沢市")]
)
def test_a_place_word_ranks_shops_in_that_place_first(ishikawa: Engine, q: str, place: str) -> None:
    """In a query of several words, a word naming the municipality is met by shops there: they come
    before shops elsewhere that merely carry the word in their name or address."""
    request = SearchRequest(q=q, limit=100)
    with ishikawa.connect() as conn:
        rows = conn.execute(queries.shop_search(request), queries.search_params(request)).all()
    there = [r.municipality == place for r in rows]
    assert any(there) and there == sorted(there, reverse=True), [(r.name, r.municipality) for r in rows]


@pytest.mark.parametrize(
    ("word", "municipality", "prefecture", "expected"),
    [
        ("白山", "白山市", "石川県", True),
        ("中区", "横浜市中区", "神奈川県", True),
        ("横浜", "横浜市中区", "神奈川県", True),
        ("横浜市", "横浜市中区", "神奈川県", True),
        ("川北", "能美郡川北町", "石川県", True),
        ("石川", "金沢市", "石川県", True),
        ("かほく", "かほく市", "石川県", True),
        ("山", "白山市", "石川県", False),  # inside a name is not the place
        ("白", "白山市", "石川県", False),
        ("金沢", "横浜市金沢区", "神奈川県", True),  # the ward
        ("沢", "横浜市金沢区", "神奈川県", False),
        ("川", "金沢市", "石川県", False),
    ],
)
def test_place_patterns(
    engine: Engine, word: str, municipality: str, prefecture: str, expected: bool
) -> None:
    patterns = queries.place_patterns(word)
    assert patterns is not None
    with engine.connect() as conn:
        got = conn.execute(
            text("SELECT kosodate_fold(:m) ~ :city OR kosodate_fold(:p) ~ :pref"),
            {"m": municipality, "p": prefecture, "city": patterns[0], "pref": patterns[1]},
        ).scalar_one()
    assert got is expected
    assert queries.place_patterns("sushiro") is None
