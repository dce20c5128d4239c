"""The ``shops_codes`` trigger runs only for rows that need it.

Migration ``s3_3_gram_codes`` fills a shop's gram codes in a plpgsql trigger for rows written without
them (or whose keys change while their codes do not). The loader always writes the codes, yet the
trigger function ran for every row it inserted or updated: a plpgsql call per row that decided to do
nothing. Here the same test sits in the triggers' ``WHEN`` clauses, which the executor checks
without calling the function: one trigger for inserts (codes missing), one for updates (codes
missing, or keys changed under unchanged codes). What the function does when it runs is unchanged.

Revision ID: s4_3_codes_trigger_when
Revises: s3_3_gram_codes
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "s4_3_codes_trigger_when"
down_revision: str | Sequence[str] | None = "s3_3_gram_codes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = "name_key, kana_key, romaji_key, prefecture, municipality, address, name_codes, address_codes"


def _sql(statement: str) -> None:
    op.get_bind().exec_driver_sql(statement)


def upgrade() -> None:
    _sql("DROP TRIGGER IF EXISTS shops_codes ON shops")
    _sql(
        "CREATE TRIGGER shops_codes_insert BEFORE INSERT ON shops FOR EACH ROW "
        "WHEN (NEW.name_codes IS NULL OR NEW.address_codes IS NULL) "
        "EXECUTE FUNCTION kosodate_shop_codes()"
    )
    _sql(
        f"CREATE TRIGGER shops_codes_update BEFORE UPDATE OF {_COLUMNS} ON shops FOR EACH ROW "
        "WHEN (NEW.name_codes IS NULL OR NEW.address_codes IS NULL "
        "OR (NEW.name_codes IS NOT DISTINCT FROM OLD.name_codes "
        "AND (NEW.name_key, NEW.kana_key, NEW.romaji_key) "
        "IS DISTINCT FROM (OLD.name_key, OLD.kana_key, OLD.romaji_key)) "
        "OR (NEW.address_codes IS NOT DISTINCT FROM OLD.address_codes "
        "AND (NEW.prefecture, NEW.municipality, NEW.address) "
        "IS DISTINCT FROM (OLD.prefecture, OLD.municipality, OLD.address))) "
        "EXECUTE FUNCTION kosodate_shop_codes()"
    )


def downgrade() -> None:
    _sql("DROP TRIGGER IF EXISTS shops_codes_update ON shops")
    _sql("DROP TRIGGER IF EXISTS shops_codes_insert ON shops")
    _sql(
        f"CREATE TRIGGER shops_codes BEFORE INSERT OR UPDATE OF {_COLUMNS} ON shops "
        "FOR EACH ROW EXECUTE FUNCTION kosodate_shop_codes()"
    )
