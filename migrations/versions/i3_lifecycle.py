"""Registration lifecycle: effective withdrawal and closure dates on shops, reasons in the change log.

Revision ID: i3_lifecycle
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i3_lifecycle"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("shops", sa.Column("withdrawn_on", sa.Date))
    op.add_column("shops", sa.Column("closed_on", sa.Date))
    op.add_column("shop_changes", sa.Column("reason", sa.Text))
    op.add_column("shop_changes", sa.Column("effective_on", sa.Date))
    op.create_check_constraint(
        "shop_changes_reason",
        "shop_changes",
        "reason IS NULL OR reason IN ('withdrawn', 'expired', 'closed', 'extended')",
    )
    # `kosodate lifecycle apply` looks for live shops whose end date has come.
    op.execute(
        "CREATE INDEX shops_live_ends ON shops (programme_id) "
        "WHERE status = 'active' AND (withdrawn_on IS NOT NULL OR closed_on IS NOT NULL "
        "OR expires_on IS NOT NULL)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS shops_live_ends")
    op.drop_constraint("shop_changes_reason", "shop_changes")
    op.drop_column("shop_changes", "effective_on")
    op.drop_column("shop_changes", "reason")
    op.drop_column("shops", "closed_on")
    op.drop_column("shops", "withdrawn_on")
