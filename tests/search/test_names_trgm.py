"""Words of three or more characters: the names' trigram index and the address codes (migration
s7_3_names_trgm) find exactly the shops ``LIKE`` on the whole search text finds, on a real file."""

from __future__ import annotations

import random
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, Row, text

from ingest.pipeline import ingest_file
from ingest.programmes import load_programme
from search import queries
from search.contract import SearchRequest
from search.keys import query_tokens
from search.migrate import alembic_config
from search.settings import DbSettings
from tests.conftest import shared_file

# The reference: a plain scan of the search text, each variant of the word anywhere in it.
REFERENCE = """
SELECT id FROM shops
WHERE status = 'active' AND location IS NOT NULL AND search_text LIKE ANY (:patterns)
"""


@pytest.fixture
def ishikawa(engine: Engine) -> Engine:
    ingest_file(engine, shared_file("shops", "ishikawa_prepass_2017_shared.csv"), load_programme("ishikawa"))
    return engine


def _words(conn: Connection) -> list[str]:
    """Three to five characters cut from real names, readings, romaji keys and folded addresses, with
    a fixed seed, and words chosen for their kind (address only, romaji, kana through its romaji)."""
    rows = conn.execute(
        text(
            "SELECT name_key, coalesce(kana_key, ''), coalesce(romaji_key, ''), "
            "kosodate_fold(coalesce(prefecture, '') || coalesce(municipality, '') || address) "
            "FROM shops ORDER BY id"
        )
    ).all()
    rng = random.Random(3)  # noqa: S311 - a fixed sample, not a secret
    words = ["金沢市", "野々市", "白山市", "かなざわ", "ramen", "sushi", "すしや", "ラーメン", "ｶﾌｪ"]
    for row in rng.sample(rows, 40):
        for key in row:
            if len(key) >= 6:
                size = rng.randint(3, 5)
                start = rng.randint(0, len(key) - size)
                words.append(key[start : start + size])
    return list(dict.fromkeys(w for w in words if w.strip() and " " not in w))


def _pattern(variant: str) -> str:
    escaped = variant.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _found(conn: Connection, word: str, *, fuzzy: bool = False) -> list[Row[Any]]:
    """Every shop the API's statement finds for ``word`` (one page holding them all)."""
    request = SearchRequest(q=word, limit=100_000)
    return list(conn.execute(queries.shop_search(request, fuzzy=fuzzy), queries.search_params(request)))


def _plan(conn: Connection, word: str) -> str:
    compiled = queries.shop_search(SearchRequest(q=word)).compile(dialect=conn.dialect)
    return "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params))


def test_long_words_find_what_like_on_the_search_text_finds(ishikawa: Engine) -> None:
    with ishikawa.connect() as conn:
        # Through the indexes even where a scan of so few rows would be cheaper.
        conn.execute(text("SET enable_seqscan = off"))
        # A kana word whose romaji folds to one or two letters (とおお: to) takes the short words'
        # path for that form, which looks in the names' codes, and they leave the romaji key out
        # (migration s7_3_name_codes_no_romaji): such words are not compared here.
        words = [w for w in _words(conn) if min(map(len, queries.word_variants(query_tokens(w)[0]))) > 2]
        assert len(words) > 60
        in_address_only = 0
        for word in words:
            patterns = [_pattern(v) for v in queries.word_variants(query_tokens(word)[0])]
            expected = {int(i) for (i,) in conn.execute(text(REFERENCE), {"patterns": patterns})}
            assert {int(r.id) for r in _found(conn, word)} == expected, word
            in_names = conn.execute(
                text(
                    "SELECT count(*) FROM shops WHERE status = 'active' "
                    "AND kosodate_names_text(name_key, kana_key, romaji_key) LIKE ANY (:patterns)"
                ),
                {"patterns": patterns},
            ).scalar_one()
            in_address_only += bool(expected) and in_names == 0
        assert in_address_only >= 3
        plan = _plan(conn, "金沢市")
        assert "shops_names_trgm" in plan and "shops_address_codes" in plan, plan


def test_a_typo_is_looked_for_in_the_names(ishikawa: Engine) -> None:
    with ishikawa.connect() as conn:
        # The typo pass's bar, as search.db sets it for every connection.
        conn.execute(text(f"SET pg_trgm.word_similarity_threshold = {queries.FUZZY_SIMILARITY}"))
        name, key = conn.execute(
            text("SELECT name, name_key FROM shops WHERE length(name_key) > 5 ORDER BY id LIMIT 1")
        ).one()
        typo = key[:2] + ("あ" if key[2] != "あ" else "い") + key[3:]
        assert not _found(conn, typo)
        assert name in {r.name for r in _found(conn, typo, fuzzy=True)}


def test_the_migration_goes_down_to_the_search_text_index_and_back(
    ishikawa: Engine, db_settings: DbSettings
) -> None:
    def indexes() -> set[str]:
        with ishikawa.connect() as conn:
            return set(
                conn.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'shops'")).scalars()
            )

    assert {"shops_names_trgm"} <= indexes() and "shops_search_trgm" not in indexes()
    config = alembic_config(db_settings.sqlalchemy_url())
    command.downgrade(config, "s6_3_name_code_bands")
    assert "shops_search_trgm" in indexes() and "shops_names_trgm" not in indexes()
    command.upgrade(config, "head")
    assert "shops_names_trgm" in indexes() and "shops_search_trgm" not in indexes()
