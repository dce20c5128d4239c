"""Search grams as integer codes in stored columns, names and addresses apart: a load writes about a
third of the index entries it used to, and each costs less.

Before: ``shops_name_grams`` (the names' characters and pairs, tagged with the name's length, as text)
and ``shops_search_grams`` (the characters and pairs of ``search_text``: the names again, then the
address), both GIN indexes on SQL expressions. Keeping them up to date was most of a first load's time
(bench/ingest_index_cost.py): the expressions ran per row, text keys compare through the collation,
and the names were indexed twice.

After:

* ``name_codes bigint[]``: the codes of the three name keys (``search.keys.name_codes``: a character
  is its code point << 21, a pair adds the second code point, and the name's length sits above
  both); GIN ``shops_name_codes`` replaces ``shops_name_grams``;
* ``address_codes bigint[]``: the codes of the folded address (prefecture, municipality, address);
  GIN ``shops_address_codes`` replaces ``shops_search_grams``; a 1-2 character word is looked up in
  ``name_codes`` (any length) or ``address_codes``.

The loader computes the codes in Python (search.keys) and writes them with the row. SQL twins
(``kosodate_name_codes``, ``kosodate_address_codes``) fill existing rows here and, through the
``shops_codes`` trigger, any row written without them (or whose keys change without them); a test
holds the Python and SQL forms equal on the real registry files.

Revision ID: s3_3_gram_codes
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "s3_3_gram_codes"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _sql(statement: str) -> None:
    op.get_bind().exec_driver_sql(statement)


def upgrade() -> None:
    _sql(
        """
        CREATE FUNCTION kosodate_text_codes(value text, tag bigint) RETURNS bigint[]
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        RETURN (
            SELECT coalesce(array_agg(DISTINCT c ORDER BY c), '{}') FROM (
                SELECT (ascii(substr(value, i, 1))::bigint << 21) | tag AS c
                FROM generate_series(1, length(value)) AS i
                UNION ALL
                SELECT (ascii(substr(value, i, 1))::bigint << 21) | ascii(substr(value, i + 1, 1)) | tag
                FROM generate_series(1, length(value) - 1) AS i
            ) AS g
        )
        """
    )
    _sql(
        """
        CREATE FUNCTION kosodate_name_codes(name_key text, kana_key text, romaji_key text) RETURNS bigint[]
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN (
            SELECT coalesce(array_agg(DISTINCT c ORDER BY c), '{}')
            FROM unnest(
                coalesce(kosodate_text_codes(name_key, least(length(name_key), 31)::bigint << 42), '{}')
                || coalesce(kosodate_text_codes(kana_key, least(length(name_key), 31)::bigint << 42), '{}')
                || coalesce(kosodate_text_codes(romaji_key, least(length(name_key), 31)::bigint << 42), '{}')
            ) AS c
        )
        """
    )
    _sql(
        """
        CREATE FUNCTION kosodate_address_codes(prefecture text, municipality text, address text)
        RETURNS bigint[]
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN kosodate_text_codes(
            kosodate_fold(coalesce(prefecture, '') || coalesce(municipality, '') || coalesce(address, '')), 0
        )
        """
    )
    _sql("ALTER TABLE shops ADD COLUMN name_codes bigint[], ADD COLUMN address_codes bigint[]")
    _sql(
        "UPDATE shops SET name_codes = kosodate_name_codes(name_key, kana_key, romaji_key), "
        "address_codes = kosodate_address_codes(prefecture, municipality, address)"
    )
    # A row written without its codes (or whose keys change while its codes do not) gets them here.
    _sql(
        """
        CREATE FUNCTION kosodate_shop_codes() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.name_codes IS NULL OR (
                TG_OP = 'UPDATE' AND NEW.name_codes IS NOT DISTINCT FROM OLD.name_codes
                AND (NEW.name_key, NEW.kana_key, NEW.romaji_key)
                    IS DISTINCT FROM (OLD.name_key, OLD.kana_key, OLD.romaji_key)
            ) THEN
                NEW.name_codes := kosodate_name_codes(NEW.name_key, NEW.kana_key, NEW.romaji_key);
            END IF;
            IF NEW.address_codes IS NULL OR (
                TG_OP = 'UPDATE' AND NEW.address_codes IS NOT DISTINCT FROM OLD.address_codes
                AND (NEW.prefecture, NEW.municipality, NEW.address)
                    IS DISTINCT FROM (OLD.prefecture, OLD.municipality, OLD.address)
            ) THEN
                NEW.address_codes := kosodate_address_codes(NEW.prefecture, NEW.municipality, NEW.address);
            END IF;
            RETURN NEW;
        END
        $$
        """
    )
    _sql(
        "CREATE TRIGGER shops_codes BEFORE INSERT OR UPDATE OF name_key, kana_key, romaji_key, "
        "prefecture, municipality, address, name_codes, address_codes ON shops "
        "FOR EACH ROW EXECUTE FUNCTION kosodate_shop_codes()"
    )
    _sql("CREATE INDEX shops_name_codes ON shops USING gin (name_codes) WHERE status = 'active'")
    _sql("CREATE INDEX shops_address_codes ON shops USING gin (address_codes) WHERE status = 'active'")
    _sql("DROP INDEX IF EXISTS shops_name_grams")
    _sql("DROP INDEX IF EXISTS shops_search_grams")


def downgrade() -> None:
    _sql(
        "CREATE INDEX shops_search_grams ON shops USING gin (kosodate_grams(search_text)) "
        "WHERE status = 'active'"
    )
    _sql(
        "CREATE INDEX shops_name_grams ON shops "
        "USING gin (kosodate_name_grams(name_key, kana_key, romaji_key)) WHERE status = 'active'"
    )
    _sql("DROP INDEX IF EXISTS shops_address_codes")
    _sql("DROP INDEX IF EXISTS shops_name_codes")
    _sql("DROP TRIGGER IF EXISTS shops_codes ON shops")
    _sql("DROP FUNCTION IF EXISTS kosodate_shop_codes()")
    _sql("ALTER TABLE shops DROP COLUMN IF EXISTS address_codes, DROP COLUMN IF EXISTS name_codes")
    _sql("DROP FUNCTION IF EXISTS kosodate_address_codes(text, text, text)")
    _sql("DROP FUNCTION IF EXISTS kosodate_name_codes(text, text, text)")
    _sql("DROP FUNCTION IF EXISTS kosodate_text_codes(text, bigint)")
