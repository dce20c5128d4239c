"""Search: names first. A character-bigram index over the name keys alone, tagged with the name's length,
and prefix indexes on the keys.

A one- or two-character word (駅, 森, 寿司) across the whole country matches thousands of shops, and
scoring every one of them to find the top page was the slow part. Name matches rank first (exact,
prefix, inside a name; shorter names first within a tier), so the search asks the names first and
reads addresses only when names give fewer than a page (search.queries.names_first_search):

* ``kosodate_names(name_key, kana_key, romaji_key)``: the three name keys as one text;
* ``kosodate_name_grams(...)``: every character and character pair of that text (``kosodate_grams``),
  each tagged with the length of ``name_key`` (``駅`` in a 9-character name is ``駅 \\x02 9``; 31
  stands for 31 and longer). Asking for a word in names of a band of lengths is then one GIN probe
  of a few keys, so the shortest names holding 駅 are found without reading the thousands of others;
* ``shops_name_grams``: GIN on it;
* ``shops_*_key_prefix``: ``text_pattern_ops`` b-trees for exact names and name prefixes (the cluster's
  ``C.UTF-8`` collation is not "C" to the planner, so ``LIKE 'w%'`` needs the pattern operator class).

Revision ID: s2_6_name_grams
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "s2_6_name_grams"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PREFIX_KEYS = ("name_key", "kana_key", "romaji_key")


def _sql(statement: str) -> None:
    op.get_bind().exec_driver_sql(statement)


def upgrade() -> None:
    _sql(
        """
        CREATE FUNCTION kosodate_names(name_key text, kana_key text, romaji_key text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN name_key || ' ' || coalesce(kana_key, '') || ' ' || coalesce(romaji_key, '')
        """
    )
    # Tag each gram: join the array with "<tag>\x01", add the last tag, split on \x01 again.
    _sql(
        r"""
        CREATE FUNCTION kosodate_name_grams(name_key text, kana_key text, romaji_key text) RETURNS text[]
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN string_to_array(
            array_to_string(
                kosodate_grams(kosodate_names(name_key, kana_key, romaji_key)),
                E'\x02' || least(length(name_key), 31) || E'\x01'
            ) || E'\x02' || least(length(name_key), 31),
            E'\x01'
        )
        """
    )
    _sql(
        "CREATE INDEX shops_name_grams ON shops "
        "USING gin (kosodate_name_grams(name_key, kana_key, romaji_key)) WHERE status = 'active'"
    )
    for key in PREFIX_KEYS:
        _sql(f"CREATE INDEX shops_{key}_prefix ON shops ({key} text_pattern_ops) WHERE status = 'active'")


def downgrade() -> None:
    for key in PREFIX_KEYS:
        _sql(f"DROP INDEX IF EXISTS shops_{key}_prefix")
    _sql("DROP INDEX IF EXISTS shops_name_grams")
    _sql("DROP FUNCTION IF EXISTS kosodate_name_grams(text, text, text)")
    _sql("DROP FUNCTION IF EXISTS kosodate_names(text, text, text)")
