"""Join the branches that grew in parallel (lifecycle, geocoding + public API, tags, search) into one head.

Revision ID: 0002
Revises: i3_lifecycle, i5_tags, i6_search, i7_api
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0002"
down_revision: str | Sequence[str] | None = ("i3_lifecycle", "i5_tags", "i6_search", "i7_api")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
