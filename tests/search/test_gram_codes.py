"""The gram codes the loader writes (Python, search.keys) equal their SQL twins (migration
s3_3_gram_codes), row for row on real registry files, and the trigger fills rows written without them."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Connection, Engine, text

from ingest.pipeline import ingest_file
from ingest.programmes import load_programme
from search import queries
from search.contract import SearchRequest
from search.keys import ALL_LENGTH_TAGS, name_codes, name_length_tag, tagged, text_codes, word_codes
from search.migrate import alembic_config, upgrade
from search.settings import DbSettings
from tests.conftest import shared_file

SQL_TWIN_MISMATCHES = """
SELECT count(*) FILTER (WHERE kosodate_codes_set(name_codes)
                        IS DISTINCT FROM kosodate_name_codes(name_key, kana_key, romaji_key)),
       count(*) FILTER (WHERE kosodate_codes_set(address_codes)
                        IS DISTINCT FROM kosodate_address_codes(prefecture, municipality, address)),
       count(*) FILTER (WHERE name_codes IS NULL OR address_codes IS NULL),
       sum(cardinality(name_codes) + cardinality(address_codes)),
       count(*)
FROM shops
"""


def test_loaded_codes_equal_the_sql_twins_on_real_files(engine: Engine) -> None:
    with engine.begin() as conn:  # the loader may repeat a code (the index keeps each once): compare sets
        conn.execute(
            text(
                "CREATE FUNCTION kosodate_codes_set(codes bigint[]) RETURNS bigint[] LANGUAGE sql IMMUTABLE "
                "RETURN (SELECT coalesce(array_agg(DISTINCT c ORDER BY c), '{}') FROM unnest(codes) AS c)"
            )
        )
    # A programme's first load makes the keys as it stages; a later file of the same programme makes
    # them on the writer, for the rows it writes (ingest.load.Loader.keys_first): both are checked.
    ingest_file(engine, shared_file("shops", "ishikawa_prepass_2017_shared.json"), load_programme("ishikawa"))
    later = ingest_file(
        engine, shared_file("shops", "ishikawa_prepass_2014_raw_shared.csv"), load_programme("ishikawa")
    )
    assert later.loaded > 100
    ingest_file(engine, shared_file("facilities", "tokyo_akachan_flat.geojson"), load_programme("tokyo"))
    with engine.connect() as conn:
        names_off, address_off, missing, codes, rows = conn.execute(text(SQL_TWIN_MISMATCHES)).one()
        # Stored as the twins give them, too: each code once, in ascending order (search.keys.copy_text;
        # PostgreSQL's sort of a row's GIN entries then finds them sorted).
        unsorted = conn.execute(
            text(
                "SELECT count(*) FROM shops WHERE name_codes <> kosodate_codes_set(name_codes) "
                "OR address_codes <> kosodate_codes_set(address_codes)"
            )
        ).scalar_one()
    assert rows > 3000 and codes > 50 * rows
    assert (names_off, address_off, missing, unsorted) == (0, 0, 0, 0)


def test_the_trigger_fills_and_refreshes_codes_written_without_them(engine: Engine) -> None:
    ingest_file(engine, shared_file("shops", "matsudo_mirai_card_2017.csv"), load_programme("matsudo"))
    with engine.begin() as conn:
        shop_id = conn.execute(text("SELECT min(id) FROM shops")).scalar_one()
        # Written as another tool would: new keys, no codes.
        conn.execute(
            text(
                "UPDATE shops SET name_key = 'すしまる', kana_key = NULL, romaji_key = 'sushimaru' "
                "WHERE id = :id"
            ),
            {"id": shop_id},
        )
        stored = conn.execute(
            text("SELECT name_codes FROM shops WHERE id = :id"), {"id": shop_id}
        ).scalar_one()
        conn.execute(
            text("UPDATE shops SET name_codes = NULL, address_codes = NULL WHERE id = :id"), {"id": shop_id}
        )
        refilled = conn.execute(
            text("SELECT name_codes, address_codes FROM shops WHERE id = :id"), {"id": shop_id}
        ).one()
    assert stored == sorted(set(name_codes("すしまる", None)))
    assert refilled.name_codes == stored and refilled.address_codes


def test_upgrading_a_loaded_database_fills_the_codes(engine: Engine, db_settings: DbSettings) -> None:
    """Migration s3_3_gram_codes on a database that already holds shops: every row gets the codes
    the loader would have written, and a one-character word finds its shop through them."""
    ingest_file(engine, shared_file("shops", "matsudo_mirai_card_2017.csv"), load_programme("matsudo"))
    url = db_settings.sqlalchemy_url()
    command.downgrade(alembic_config(url), "0003")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM shops")).scalar_one() == 270
        assert "name_codes" not in _columns(conn)
    upgrade(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT name_key, kana_key, romaji_key, name_codes, address_codes FROM shops")
        ).all()
        word = rows[0].name_key[-1]
        found = conn.execute(
            text("SELECT count(*) FROM shops WHERE name_codes && CAST(:codes AS bigint[])"),
            {"codes": [tagged(c, t) for c in word_codes(word) for t in ALL_LENGTH_TAGS]},
        ).scalar_one()
    assert len(rows) == 270 and all(r.address_codes for r in rows)
    assert all(r.name_codes == sorted(set(name_codes(r.name_key, r.kana_key))) for r in rows)
    assert found >= 1


def _columns(conn: Connection) -> set[str]:
    return set(
        conn.execute(text("SELECT column_name FROM information_schema.columns WHERE table_name = 'shops'"))
        .scalars()
        .all()
    )


def test_the_band_tags_migration_retags_stored_codes_both_ways(
    engine: Engine, db_settings: DbSettings
) -> None:
    """Migration s6_3_name_code_bands: a loaded database's name codes go from the band tag to the
    length tag they had before (downgrade) and back (upgrade), character and pair bits kept; the SQL
    band agrees with search.keys for every length."""
    ingest_file(engine, shared_file("shops", "matsudo_mirai_card_2017.csv"), load_programme("matsudo"))
    url = db_settings.sqlalchemy_url()
    mask = (1 << 42) - 1

    def stored(conn: Connection) -> dict[str, tuple[str, str | None, str | None, list[int]]]:
        rows = conn.execute(text("SELECT source_id, name_key, kana_key, romaji_key, name_codes FROM shops"))
        return {r.source_id: (r.name_key, r.kana_key, r.romaji_key, r.name_codes) for r in rows}

    command.downgrade(alembic_config(url), "s5_3_shop_refs")
    with engine.connect() as conn:
        before = stored(conn)
    assert len(before) == 270
    for name_key, kana_key, romaji_key, codes in before.values():
        length_tag = min(len(name_key), 31) << 42
        # Then every key's characters and pairs (romaji until s7_3, the reading's characters until s9_3).
        every = [c for key in (name_key, kana_key, romaji_key) if key for c in text_codes(key)]
        assert codes == sorted({(c & mask) | length_tag for c in every})
    upgrade(url)
    with engine.connect() as conn:
        after = stored(conn)
        bands = conn.execute(
            text("SELECT n, kosodate_name_band(repeat('x', n)) FROM generate_series(0, 40) AS n")
        ).all()
        twins_off = conn.execute(
            text(
                "SELECT count(*) FROM shops WHERE name_codes "
                "IS DISTINCT FROM kosodate_name_codes(name_key, kana_key, romaji_key)"
            )
        ).scalar_one()
    assert after.keys() == before.keys() and twins_off == 0
    for name_key, kana_key, _romaji_key, codes in after.values():
        assert codes == sorted(set(name_codes(name_key, kana_key)))  # s7_3: not the romaji key's
    assert all(band == name_length_tag("x" * n) for n, band in bands)


def test_names_codes_leave_the_romaji_key_out(engine: Engine) -> None:
    """Migration s7_3_name_codes_no_romaji: no stored code of a name without latin letters is latin;
    a two-letter latin word still finds a name whose romaji reading starts with it (type-ahead), and
    a longer latin word finds it anywhere in the romaji reading."""
    ingest_file(engine, shared_file("shops", "matsudo_mirai_card_2017.csv"), load_programme("matsudo"))
    latin_head = "(((c & ((1::bigint << 42) - 1)) >> 21) BETWEEN ascii('a') AND ascii('z'))"
    with engine.connect() as conn:
        latin_codes = conn.execute(
            text(
                f"SELECT count(*) FROM shops, unnest(name_codes) AS c "
                f"WHERE name_key !~ '[a-z]' AND coalesce(kana_key, '') !~ '[a-z]' AND {latin_head}"
            )
        ).scalar_one()
        name, romaji = conn.execute(
            text(
                "SELECT name, romaji_key FROM shops WHERE status = 'active' AND location IS NOT NULL "
                "AND name_key !~ '[a-z]' AND length(romaji_key) >= 8 ORDER BY id LIMIT 1"
            )
        ).one()

        def names(word: str) -> set[str]:
            request = SearchRequest(q=word, limit=1000)
            rows = conn.execute(queries.shop_search(request), queries.search_params(request))
            return {r.name for r in rows}

        assert latin_codes == 0
        assert name in names(romaji[:2])  # the romaji key's b-tree prefix index
        assert name in names(romaji[3:7])  # the names' trigram index


def test_names_codes_keep_the_readings_pairs_not_its_characters(
    engine: Engine, db_settings: DbSettings
) -> None:
    """Migration s9_3_name_codes_reading_pairs: a stored code of a single character is one of the
    name's; a one-character word still finds a shop whose reading starts with it, a two-character
    word one whose reading holds it anywhere; down and up again remakes the codes both ways."""
    ingest_file(engine, shared_file("shops", "matsudo_mirai_card_2017.csv"), load_programme("matsudo"))
    pair_bits = "(c & ((1::bigint << 21) - 1))"  # the second character of a pair; 0 for one character

    def reading_only_characters(conn: Connection) -> int:
        return int(
            conn.execute(
                text(
                    f"SELECT count(*) FROM shops, unnest(name_codes) AS c WHERE {pair_bits} = 0 "
                    "AND strpos(name_key, chr(((c & ((1::bigint << 42) - 1)) >> 21)::int)) = 0"
                )
            ).scalar_one()
        )

    with engine.connect() as conn:
        assert reading_only_characters(conn) == 0
        name, kana, lat, lng = conn.execute(
            text(
                "SELECT name, kana_key, ST_Y(location::geometry), ST_X(location::geometry) FROM shops "
                "WHERE status = 'active' AND location IS NOT NULL AND length(kana_key) >= 6 "
                "AND strpos(name_key, left(kana_key, 1)) = 0 "
                "AND strpos(name_key, substr(kana_key, 3, 2)) = 0 ORDER BY id LIMIT 1"
            )
        ).one()

        def names(word: str, *, near: bool) -> set[str]:
            request = (
                SearchRequest(q=word, limit=1000, lat=lat, lng=lng, radius_m=500.0)
                if near
                else SearchRequest(q=word, limit=1000)
            )
            rows = conn.execute(queries.shop_search(request), queries.search_params(request))
            return {r.name for r in rows}

        for near in (False, True):  # the names-first statement, and the general one inside a radius
            assert name in names(kana[0], near=near)  # the reading's start (b-tree prefix index)
            assert name in names(kana[2:4], near=near)  # the reading's pairs
    url = db_settings.sqlalchemy_url()
    command.downgrade(alembic_config(url), "s8_3_rows_uncompressed")
    with engine.connect() as conn:
        assert reading_only_characters(conn) > 0
    upgrade(url)
    with engine.connect() as conn:
        assert reading_only_characters(conn) == 0
        twins_off = conn.execute(
            text(
                "SELECT count(*) FROM shops WHERE name_codes "
                "IS DISTINCT FROM kosodate_name_codes(name_key, kana_key, romaji_key)"
            )
        ).scalar_one()
    assert twins_off == 0


def test_a_reading_start_is_asked_for_kana_and_latin_words_only() -> None:
    """Readings hold kana (and latin letters and digits): the statement for a one-character kanji
    word does not ask the reading's prefix index (asking it anyway made whole-country counts half as
    slow again: search.queries._at_start_of_keys), a kana or latin word does."""

    def asks_reading_start(word: str) -> bool:
        request = SearchRequest(q=word, limit=20)
        statement = queries.count_and_facets(request, (), 100)
        return "shops.kana_key LIKE" in str(statement)

    assert not asks_reading_start("駅")
    assert not asks_reading_start("湯")
    assert asks_reading_start("か")
    assert asks_reading_start("カ")  # folded to hiragana first
    assert asks_reading_start("a")
