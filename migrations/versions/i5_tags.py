"""Operator tag overrides: kept apart from the shop row so a re-ingest keeps them.

Revision ID: i5_tags
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i5_tags"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tag_overrides",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("shop_id", sa.BigInteger, sa.ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("action IN ('add', 'remove')", name="tag_overrides_action"),
        sa.CheckConstraint("kind IN ('category', 'amenity')", name="tag_overrides_kind"),
        sa.CheckConstraint("length(btrim(reason)) > 0", name="tag_overrides_reason"),
    )
    op.create_index("tag_overrides_shop", "tag_overrides", ["shop_id", "id"])


def downgrade() -> None:
    op.drop_table("tag_overrides")
