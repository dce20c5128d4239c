"""Geocoding data: the municipality master, gazetteer towns, municipal boundaries, the geocode cache.

Revision ID: i4_geo
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography, Geometry

revision: str = "i4_geo"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "municipalities",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("lg_code", sa.Text, nullable=False),
        sa.Column("prefecture_code", sa.SmallInteger, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("parent_code", sa.Text),
        sa.Column("lat", sa.Float),
        sa.Column("lng", sa.Float),
        sa.CheckConstraint("code ~ '^[0-9]{5}$'", name="municipalities_code_5"),
    )
    op.create_table(
        "gazetteer_towns",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("municipality_code", sa.Text, nullable=False),
        sa.Column("town", sa.Text, nullable=False),
        sa.Column("koaza", sa.Text, nullable=False, server_default=""),
        sa.Column("level", sa.Text, nullable=False, server_default="town"),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lng", sa.Float, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.CheckConstraint("level IN ('town', 'block')", name="gazetteer_towns_level"),
        sa.UniqueConstraint("municipality_code", "town", "koaza", "level", name="gazetteer_towns_key"),
    )
    op.create_index("gazetteer_towns_pref", "gazetteer_towns", [sa.text("left(municipality_code, 2)")])
    op.create_table(
        "boundaries",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("prefecture", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
    )
    op.create_table(
        "geocode_cache",
        sa.Column("address_key", sa.Text, primary_key=True),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("location", Geography("POINT", srid=4326, spatial_index=False)),
        sa.Column("precision", sa.Text),
        sa.Column("geocoder", sa.Text, nullable=False),
        sa.Column("municipality_code", sa.Text),
        sa.Column("matched", sa.Text),
        sa.Column("geocoded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
    )


def downgrade() -> None:
    for table in ("geocode_cache", "boundaries", "gazetteer_towns", "municipalities"):
        op.drop_table(table)
