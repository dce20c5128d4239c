"""Migration s10_3_fold_katakana_check: ``kosodate_fold`` tests for katakana before translating, and
gives what the body before it gave for every text: each character PostgreSQL can hold, alone and
among katakana, capitals and separators; the stored search text of a real file; down and up."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Connection, Engine, text

from geo.text import fold
from ingest.pipeline import ingest_file
from ingest.programmes import load_programme
from migrations.versions.s10_3_fold_katakana_check import FOLD_BEFORE
from search.migrate import alembic_config, upgrade
from search.settings import DbSettings
from tests.conftest import shared_file

# Every code point but NUL and the surrogates (which text cannot hold), in strings of 48.
_POINTS = [c for c in range(1, 0x110000) if not 0xD800 <= c <= 0xDFFF]
_CHUNK = 48


def _texts() -> list[str]:
    out = []
    for start in range(0, len(_POINTS), _CHUNK):
        chunk = "".join(chr(c) for c in _POINTS[start : start + _CHUNK])
        out.append(chunk)  # mostly without katakana: the new body's other branch
        out.append("Aカ・" + chunk + "ヶ丘 ヴ")  # with them: the translated branch
    out += [f"X{chr(c)}" for c in range(0x3000, 0x3100)]  # the katakana block's ends, one at a time
    return out


def _disagreements(conn: Connection, texts: list[str]) -> list[tuple[str, str, str]]:
    before = FOLD_BEFORE.replace("value", "t")
    return [
        tuple(row)
        for row in conn.execute(
            text(
                f"SELECT t, kosodate_fold(t), {before} FROM unnest(CAST(:texts AS text[])) AS t "
                f"WHERE kosodate_fold(t) IS DISTINCT FROM {before}"
            ),
            {"texts": texts},
        )
    ]


def test_the_checked_fold_equals_the_translate_first_fold_for_every_character(engine: Engine) -> None:
    texts = _texts()
    assert len(texts) > 40_000
    with engine.connect() as conn:
        assert _disagreements(conn, texts) == []
        # The case the check is for: no katakana, so no translate; and the katakana branch folds.
        cases = (("石川県金沢市広坂1-1-1", "石川県金沢市広坂111"), ("霞ケ関 ABC・ヴィラ", "霞け関abcゔぃら"))
        for given, folded in cases:
            assert conn.execute(text("SELECT kosodate_fold(:t)"), {"t": given}).scalar_one() == folded
        # As the Python fold that query words go through does (on NFKC text, as addresses are stored).
        for sample in ("霞ケ関 ABC・ヴィラ", "カフェ・ミルク(藤沢)", "SHOP ヶ丘 2-3"):
            assert conn.execute(text("SELECT kosodate_fold(:t)"), {"t": sample}).scalar_one() == fold(sample)


def test_the_stored_search_text_is_unchanged_and_the_migration_goes_both_ways(
    engine: Engine, db_settings: DbSettings
) -> None:
    ingest_file(engine, shared_file("shops", "matsudo_mirai_card_2017.csv"), load_programme("matsudo"))
    address = "coalesce(prefecture, '') || coalesce(municipality, '') || address"
    before = FOLD_BEFORE.replace("value", f"({address})")
    # The search text ends with the folded address.
    off_by_before = f"SELECT count(*) FROM shops WHERE right(search_text, length({before})) <> {before}"
    body = "SELECT pg_get_functiondef('kosodate_fold(text)'::regprocedure)"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM shops")).scalar_one() > 200
        katakana = "SELECT count(*) FROM shops WHERE address ~ '[ァ-ヶ]'"
        assert conn.execute(text(katakana)).scalar_one() > 0  # the translated branch, too
        assert conn.execute(text(off_by_before)).scalar_one() == 0  # rows written through the new body
        assert "CASE" in conn.execute(text(body)).scalar_one().upper()
    url = db_settings.sqlalchemy_url()
    command.downgrade(alembic_config(url), "s9_3_name_codes_reading_pairs")
    with engine.connect() as conn:
        assert "CASE" not in conn.execute(text(body)).scalar_one().upper()
        assert conn.execute(text(off_by_before)).scalar_one() == 0
    upgrade(url)
    with engine.connect() as conn:
        assert "CASE" in conn.execute(text(body)).scalar_one().upper()
