"""Search: romaji key, one folded search text per shop, a character-bigram index and helpers.

* ``romaji_key``: the reading in romaji with long vowels and spelling variants folded (filled at load).
* ``search_text`` (generated): name key, reading key, romaji key and the folded address, so one
  index answers a word whether it names the shop or its place (``金沢 ラーメン``).
* ``kosodate_grams(text)``: every character and every pair of neighbouring characters (pairs at even
  and at odd offsets, built with C string functions: ~20x faster than a set-returning SQL body). A GIN
  index on it answers 1- and 2-character words (駅, 寿司), which pg_trgm cannot (it needs three).
* a trigram index on ``search_text`` for the one-edit typo pass.
* ``kosodate_open_at(hours, time)``: whether a simple ``10:00〜20:00`` opening time covers a moment.

Revision ID: i6_search
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "i6_search"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KATAKANA = "".join(chr(c) for c in range(0x30A1, 0x30F7))
HIRAGANA = "".join(chr(c - 0x60) for c in range(0x30A1, 0x30F7))
# The separators geo.text.search_key drops (addresses are NFKC already, so ASCII forms suffice).
DROP = r"[\s\-・･·.,、。''’\"“”()\[\]「」『』【】/&!?]+"


def _sql(statement: str) -> None:
    # Run as written: the regular expressions hold colons that bind-parameter parsing would take.
    op.get_bind().exec_driver_sql(statement)


def upgrade() -> None:
    _sql(
        f"""
        CREATE FUNCTION kosodate_fold(value text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        RETURN regexp_replace(translate(lower(value), '{KATAKANA}', '{HIRAGANA}'), '{DROP}', '', 'g')
        """
    )
    _sql(
        r"""
        CREATE FUNCTION kosodate_grams(value text) RETURNS text[]
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        RETURN regexp_split_to_array(value, '')
            || string_to_array(regexp_replace(value, '(..)', E'\\1\x01', 'g'), E'\x01')
            || string_to_array(regexp_replace(substr(value, 2), '(..)', E'\\1\x01', 'g'), E'\x01')
        """
    )
    _sql(
        r"""
        CREATE FUNCTION kosodate_open_at(hours text, at time) RETURNS boolean
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN (
            WITH m AS (
                SELECT regexp_match(
                    hours, '([0-2]?[0-9])[:：時]([0-5][0-9])?\s*[~〜～\-－ー]\s*([0-2]?[0-9])[:：時]([0-5][0-9])?'
                ) AS p
            ), t AS (
                SELECT make_time(least(p[1]::int, 23), coalesce(p[2], '0')::int, 0) AS o,
                       CASE WHEN p[3]::int >= 24 THEN time '23:59:59'
                            ELSE make_time(p[3]::int, coalesce(p[4], '0')::int, 0) END AS c
                FROM m WHERE p IS NOT NULL
            )
            SELECT CASE WHEN o <= c THEN at >= o AND at < c ELSE at >= o OR at < c END FROM t
        )
        """
    )
    _sql("ALTER TABLE shops ADD COLUMN romaji_key text")
    _sql(
        """
        ALTER TABLE shops ADD COLUMN search_text text GENERATED ALWAYS AS (
            name_key || ' ' || coalesce(kana_key, '') || ' ' || coalesce(romaji_key, '') || ' '
            || kosodate_fold(coalesce(prefecture, '') || coalesce(municipality, '') || address)
        ) STORED
        """
    )
    _sql(
        "CREATE INDEX shops_search_grams ON shops USING gin (kosodate_grams(search_text)) "
        "WHERE status = 'active'"
    )
    _sql(
        "CREATE INDEX shops_search_trgm ON shops USING gin (search_text gin_trgm_ops) WHERE status = 'active'"
    )


def downgrade() -> None:
    _sql("DROP INDEX IF EXISTS shops_search_trgm")
    _sql("DROP INDEX IF EXISTS shops_search_grams")
    _sql("ALTER TABLE shops DROP COLUMN IF EXISTS search_text")
    _sql("ALTER TABLE shops DROP COLUMN IF EXISTS romaji_key")
    _sql("DROP FUNCTION IF EXISTS kosodate_open_at(text, time)")
    _sql("DROP FUNCTION IF EXISTS kosodate_grams(text)")
    _sql("DROP FUNCTION IF EXISTS kosodate_fold(text)")
