"""Join the ingest-speed and names-first branches into one head.

Revision ID: 0003
Revises: s2_3_ingest_indexes, s2_6_name_grams
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0003"
down_revision: str | Sequence[str] | None = ("s2_3_ingest_indexes", "s2_6_name_grams")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
