"""Ingest speed: index what the load reads, stop maintaining trigram indexes no query uses.

* ``shops_name_key_trgm`` and ``shops_kana_key_trgm`` (foundation): keyword search matches
  ``search_text`` (which holds the name, reading and romaji keys) through ``shops_search_grams`` and
  ``shops_search_trgm``; ``name_key``/``kana_key`` are only compared inside the ranking expression,
  which no index serves. Each row written paid for ~70 trigram entries in these two (measured ~13% of
  a load's merge).
* ``shops_live_programme_name_key``: the load looks for a live shop with the same folded name (and
  address) under another id once per batch; without an index that is a scan of every shop per batch.

Revision ID: s2_3_ingest_indexes
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "s2_3_ingest_indexes"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS shops_name_key_trgm")
    op.execute("DROP INDEX IF EXISTS shops_kana_key_trgm")
    op.execute(
        "CREATE INDEX shops_live_programme_name_key ON shops (programme_id, name_key) WHERE status = 'active'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS shops_live_programme_name_key")
    op.execute("CREATE INDEX shops_name_key_trgm ON shops USING gin (name_key gin_trgm_ops)")
    op.execute("CREATE INDEX shops_kana_key_trgm ON shops USING gin (kana_key gin_trgm_ops)")
