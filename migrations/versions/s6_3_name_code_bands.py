"""Names' gram codes are tagged with the band of the name's length, not the length itself.

``shops.name_codes`` holds every character and pair of a shop's three name keys, each tagged so
that a names-first probe asks names of one band of lengths (``search.queries.names_first_search``).
The tag was the length, capped at 31: a character or pair then had up to 31 keys in
``shops_name_codes``, each with a short list of rows. Writing those many small entries was a tenth
of the database's CPU on a first load (bench/results/ingest_bench.md, 2026-11-23). The tag is now the
number of the length's band (``search.keys.NAME_BANDS``: 1-3, 4-5, 6-7, 8-9, 10-11, 12-14, 15-19,
20 and longer; an empty key is in the first), eight values; a probe of any lengths asks the tags of
their bands, and the names' length is checked on its own, so searches find the same shops.

Stored codes are re-tagged in place (the character and pair bits are kept); the SQL that makes the
codes of a row written without them (``kosodate_name_codes``) tags the same way.

Revision ID: s6_3_name_code_bands
Revises: s5_3_shop_refs
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "s6_3_name_code_bands"
down_revision: str | Sequence[str] | None = "s5_3_shop_refs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CODE_MASK = "((1::bigint << 42) - 1)"  # the character and pair bits below the tag


def _sql(statement: str) -> None:
    op.get_bind().exec_driver_sql(statement)


def _name_codes(tag: str) -> None:
    """(Re)define kosodate_name_codes with ``tag``, an expression of ``name_key``."""
    _sql(
        f"""
        CREATE OR REPLACE FUNCTION kosodate_name_codes(name_key text, kana_key text, romaji_key text)
        RETURNS bigint[]
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN (
            SELECT coalesce(array_agg(DISTINCT c ORDER BY c), '{{}}')
            FROM unnest(
                coalesce(kosodate_text_codes(name_key, ({tag})::bigint << 42), '{{}}')
                || coalesce(kosodate_text_codes(kana_key, ({tag})::bigint << 42), '{{}}')
                || coalesce(kosodate_text_codes(romaji_key, ({tag})::bigint << 42), '{{}}')
            ) AS c
        )
        """  # noqa: S608
    )


def _retag(tag: str) -> None:
    _sql(
        f"""
        UPDATE shops SET name_codes = (
            SELECT array_agg(DISTINCT t ORDER BY t)
            FROM (SELECT (c & {_CODE_MASK}) | (({tag})::bigint << 42) AS t FROM unnest(name_codes) AS c) AS g
        )
        WHERE cardinality(name_codes) > 0
        """  # noqa: S608
    )


def upgrade() -> None:
    _sql(
        """
        CREATE FUNCTION kosodate_name_band(name_key text) RETURNS integer
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        RETURN CASE
            WHEN length(name_key) <= 3 THEN 1
            WHEN length(name_key) <= 5 THEN 2
            WHEN length(name_key) <= 7 THEN 3
            WHEN length(name_key) <= 9 THEN 4
            WHEN length(name_key) <= 11 THEN 5
            WHEN length(name_key) <= 14 THEN 6
            WHEN length(name_key) <= 19 THEN 7
            ELSE 8
        END
        """
    )
    _name_codes("kosodate_name_band(name_key)")
    _retag("kosodate_name_band(name_key)")


def downgrade() -> None:
    _name_codes("least(length(name_key), 31)")
    _retag("least(length(name_key), 31)")
    _sql("DROP FUNCTION IF EXISTS kosodate_name_band(text)")
