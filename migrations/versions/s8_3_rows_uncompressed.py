"""Shop rows are stored without compressing their values.

A shop row is ~1.9-2.0 kB on the ingest bench's rows (its gram codes alone ~600 bytes), about the
~2 kB over which PostgreSQL compresses a row's largest values (pglz) before storing it: about half
the rows of a load had their codes compressed. That cost ~3% of a first load's database CPU for ~8%
of the table, and every search that reads such a row back decompresses it. ``toast_tuple_target`` at
its largest makes the toaster leave a row alone unless it cannot fit in a page; the load's staging
tables are made the same way (ingest/sql/create_staging.sql), so values reach ``shops`` uncompressed.

Rows already stored keep their form until they are next written.

Revision ID: s8_3_rows_uncompressed
Revises: s7_3_name_codes_no_romaji
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "s8_3_rows_uncompressed"
down_revision: str | Sequence[str] | None = "s7_3_name_codes_no_romaji"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.get_bind().exec_driver_sql("ALTER TABLE shops SET (toast_tuple_target = 8160)")


def downgrade() -> None:
    op.get_bind().exec_driver_sql("ALTER TABLE shops RESET (toast_tuple_target)")
