"""Names' gram codes keep the reading's pairs, not its single characters.

``shops.name_codes`` held every character and pair of a shop's name and of its reading. The reading's
single characters (~18 of ~63 codes a row: a reading is mostly a few dozen kana) served one kind of
search only: a one-character word found *inside* a reading (``す`` inside ``おすし``), a word that
matches most readings anyway. Such a word still finds names holding it (their characters stay),
names and readings that start with it (the ``*_key_prefix`` indexes, type-ahead), and addresses; a
word of two or more characters still finds a reading holding it anywhere (its pairs stay, and the
names' trigram index for three or more). As migration ``s7_3_name_codes_no_romaji`` did for the romaji
key. A first load writes ~15% fewer GIN entries and needs ~8% less database CPU
(bench/results/ingest_bench.md, 2026-12-05).

Stored codes are made again (``kosodate_name_codes``: the name's characters and pairs, the reading's
pairs, through the new ``kosodate_pair_codes``).

Revision ID: s9_3_name_codes_reading_pairs
Revises: s8_3_rows_uncompressed
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "s9_3_name_codes_reading_pairs"
down_revision: str | Sequence[str] | None = "s8_3_rows_uncompressed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TAG = "kosodate_name_band(name_key)::bigint << 42"


def _sql(statement: str) -> None:
    op.get_bind().exec_driver_sql(statement)


def _name_codes(reading: str) -> None:
    """(Re)define kosodate_name_codes with the reading's codes made by ``reading`` (a function of a
    text and a tag), and remake the stored codes."""
    _sql(
        f"""
        CREATE OR REPLACE FUNCTION kosodate_name_codes(name_key text, kana_key text, romaji_key text)
        RETURNS bigint[]
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN (
            SELECT coalesce(array_agg(DISTINCT c ORDER BY c), '{{}}')
            FROM unnest(
                coalesce(kosodate_text_codes(name_key, {_TAG}), '{{}}')
                || coalesce({reading}(kana_key, {_TAG}), '{{}}')
            ) AS c
        )
        """  # noqa: S608
    )
    _sql("UPDATE shops SET name_codes = kosodate_name_codes(name_key, kana_key, romaji_key)")


def upgrade() -> None:
    _sql(
        """
        CREATE FUNCTION kosodate_pair_codes(value text, tag bigint) RETURNS bigint[]
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        RETURN (
            SELECT coalesce(array_agg(DISTINCT c ORDER BY c), '{}') FROM (
                SELECT (ascii(substr(value, i, 1))::bigint << 21) | ascii(substr(value, i + 1, 1)) | tag AS c
                FROM generate_series(1, length(value) - 1) AS i
            ) AS g
        )
        """
    )
    _name_codes("kosodate_pair_codes")


def downgrade() -> None:
    _name_codes("kosodate_text_codes")
    _sql("DROP FUNCTION kosodate_pair_codes(text, bigint)")
