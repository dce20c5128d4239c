"""Names' gram codes leave out the romaji key.

``shops.name_codes`` held every character and pair of a shop's three name keys: the name, its reading
and its romaji key. The romaji key's codes were nearly half of them (~50 of ~110 distinct codes a
row on real names, a reading's romaji being twice as long as the reading), so nearly half of what a
load wrote into ``shops_name_codes``. They served one kind of search only: a word of one or two latin
letters (``su``, ``x``) found inside a Japanese name's romaji reading. Such a word still finds names
and readings holding it, and names whose romaji reading starts with it (the ``romaji_key`` prefix
index, type-ahead); a latin word of three or more letters still finds it anywhere in the romaji key
(the names' trigram index, migration ``s7_3_names_trgm``).

Stored codes are made again from the name and reading (``kosodate_name_codes``, which now leaves the
romaji key out; it keeps its three arguments for the trigger that calls it).

Revision ID: s7_3_name_codes_no_romaji
Revises: s7_3_names_trgm
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "s7_3_name_codes_no_romaji"
down_revision: str | Sequence[str] | None = "s7_3_names_trgm"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _sql(statement: str) -> None:
    op.get_bind().exec_driver_sql(statement)


def _name_codes(*keys: str) -> None:
    """(Re)define kosodate_name_codes over ``keys`` (of its arguments), and remake the stored codes."""
    parts = "\n                || ".join(
        f"coalesce(kosodate_text_codes({key}, kosodate_name_band(name_key)::bigint << 42), '{{}}')"
        for key in keys
    )
    _sql(
        f"""
        CREATE OR REPLACE FUNCTION kosodate_name_codes(name_key text, kana_key text, romaji_key text)
        RETURNS bigint[]
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN (
            SELECT coalesce(array_agg(DISTINCT c ORDER BY c), '{{}}')
            FROM unnest({parts}) AS c
        )
        """  # noqa: S608
    )
    _sql("UPDATE shops SET name_codes = kosodate_name_codes(name_key, kana_key, romaji_key)")


def upgrade() -> None:
    _name_codes("name_key", "kana_key")


def downgrade() -> None:
    _name_codes("name_key", "kana_key", "romaji_key")
