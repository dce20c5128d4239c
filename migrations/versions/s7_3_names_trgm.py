"""The trigram index covers the three name keys only; addresses are found through their codes.

``shops_search_trgm`` held the trigrams of the whole ``search_text``: the name, its reading, its
romaji key and the folded address. It served ``LIKE '%word%'`` for words of three or more characters
and the one-edit typo pass. Keeping it up to date was the largest single cost of a first load in the
database (bench/results/ingest_bench.md). The address part of it duplicated ``shops_address_codes``,
which holds every character and pair of the same folded address.

* ``shops_names_trgm`` indexes ``kosodate_names_text(name_key, kana_key, romaji_key)``: the start of
  ``search_text`` before the address, the same text;
* a word of three or more characters is found in the names through it, and in the address through
  ``address_codes`` holding all the word's pairs; ``search_text LIKE`` still decides, so a search
  finds exactly the shops it found before;
* the typo pass (one edit) now looks at the names only: a typo in an address word finds nothing.

Revision ID: s7_3_names_trgm
Revises: s6_3_name_code_bands
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "s7_3_names_trgm"
down_revision: str | Sequence[str] | None = "s6_3_name_code_bands"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _sql(statement: str) -> None:
    op.get_bind().exec_driver_sql(statement)


def upgrade() -> None:
    # Not STRICT: a shop without a reading still has its name and romaji key in the text.
    _sql(
        """
        CREATE FUNCTION kosodate_names_text(name_key text, kana_key text, romaji_key text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN name_key || ' ' || coalesce(kana_key, '') || ' ' || coalesce(romaji_key, '')
        """
    )
    _sql(
        "CREATE INDEX shops_names_trgm ON shops USING gin "
        "(kosodate_names_text(name_key, kana_key, romaji_key) gin_trgm_ops) WHERE status = 'active'"
    )
    _sql("DROP INDEX IF EXISTS shops_search_trgm")


def downgrade() -> None:
    _sql(
        "CREATE INDEX shops_search_trgm ON shops USING gin (search_text gin_trgm_ops) WHERE status = 'active'"
    )
    _sql("DROP INDEX IF EXISTS shops_names_trgm")
    _sql("DROP FUNCTION IF EXISTS kosodate_names_text(text, text, text)")
