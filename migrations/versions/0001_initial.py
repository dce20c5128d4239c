"""Initial schema: programmes, shops, ingest runs, rejected rows, hand-offs, change log.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PRECISIONS = ("source", "building", "block", "town", "municipality", "prefecture")
STATUSES = ("active", "withdrawn", "expired", "closed")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _now(name: str, *, nullable: bool = False) -> sa.Column[object]:
    default = None if nullable else sa.text("now()")
    return sa.Column(name, sa.DateTime(timezone=True), server_default=default, nullable=nullable)


def upgrade() -> None:
    for ext in ("postgis", "pg_trgm", "btree_gist"):
        op.execute(f"CREATE EXTENSION IF NOT EXISTS {ext}")

    # The one place where latitude/longitude become a PostGIS (x=lng, y=lat) point.
    op.execute(
        """
        CREATE FUNCTION kosodate_point(lat double precision, lng double precision)
        RETURNS geography LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN ST_SetSRID(ST_MakePoint(lng, lat), 4326)::geography
        """
    )

    op.create_table(
        "programmes",
        sa.Column("id", sa.SmallInteger, sa.Identity(), primary_key=True),
        sa.Column("code", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text),
        sa.Column("prefecture_codes", ARRAY(sa.SmallInteger), nullable=False, server_default="{}"),
        sa.Column("config", JSONB, nullable=False, server_default="{}"),
        _now("updated_at"),
        sa.CheckConstraint("code ~ '^[a-z][a-z0-9_-]{0,39}$'", name="programmes_code_format"),
    )

    op.create_table(
        "ingest_runs",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("programme_id", sa.SmallInteger, sa.ForeignKey("programmes.id"), nullable=False),
        sa.Column("source_file", sa.Text, nullable=False),
        sa.Column("file_sha256", sa.Text),
        sa.Column("profile", sa.Text, nullable=False),
        sa.Column("mode", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        _now("started_at"),
        _now("finished_at", nullable=True),
        *[
            sa.Column(name, sa.Integer, nullable=False, server_default="0")
            for name in (
                "rows",
                "loaded",
                "updated",
                "unchanged",
                "rejected",
                "handed_off",
                "pending_geocode",
                "withdrawn",
            )
        ],
        sa.Column("error", sa.Text),
        sa.CheckConstraint("mode IN ('delta', 'snapshot')", name="ingest_runs_mode"),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'failed', 'abandoned')", name="ingest_runs_status"
        ),
    )

    op.create_table(
        "shops",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("programme_id", sa.SmallInteger, sa.ForeignKey("programmes.id"), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_id", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("name_kana", sa.Text),
        sa.Column("name_key", sa.Text, nullable=False),
        sa.Column("kana_key", sa.Text),
        sa.Column("address", sa.Text, nullable=False),
        *[
            sa.Column(name, sa.Text)
            for name in (
                "prefecture",
                "municipality",
                "town",
                "address_rest",
                "building",
                "postal_code",
                "phone",
                "url",
                "hours",
                "closed_days",
                "perk_text",
            )
        ],
        sa.Column("categories", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("amenities", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("tags", JSONB, nullable=False, server_default="[]"),
        sa.Column("card_required", sa.Boolean),
        sa.Column("cards", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("multi_child", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("nationwide", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("municipality_code", sa.Text),
        sa.Column("lg_code", sa.Text),
        sa.Column("location", Geography("POINT", srid=4326, spatial_index=False)),
        sa.Column("geocode_precision", sa.Text),
        sa.Column("geocode_source", sa.Text),
        _now("geocoded_at", nullable=True),
        sa.Column("location_flags", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("registered_on", sa.Date),
        sa.Column("expires_on", sa.Date),
        sa.Column("status", sa.Text, nullable=False, server_default="active"),
        _now("status_changed_at"),
        sa.Column("content_hash", sa.Text, nullable=False),
        sa.Column("first_run_id", sa.BigInteger, sa.ForeignKey("ingest_runs.id")),
        sa.Column("last_run_id", sa.BigInteger, sa.ForeignKey("ingest_runs.id")),
        _now("created_at"),
        _now("updated_at"),
        sa.UniqueConstraint("programme_id", "source_id", name="shops_programme_source_id"),
        sa.CheckConstraint(_in("status", STATUSES), name="shops_status"),
        sa.CheckConstraint(
            f"geocode_precision IS NULL OR {_in('geocode_precision', PRECISIONS)}", name="shops_precision"
        ),
        sa.CheckConstraint(
            "(location IS NULL) = (geocode_precision IS NULL)", name="shops_location_has_precision"
        ),
        sa.CheckConstraint(
            "municipality_code IS NULL OR municipality_code ~ '^[0-9]{5}$'", name="shops_code5"
        ),
        sa.CheckConstraint("lg_code IS NULL OR lg_code ~ '^[0-9]{6}$'", name="shops_code6"),
    )
    # Radius search: KNN and ST_DWithin over the shops that are live. btree_gist lets the programme
    # filter share the spatial index.
    op.execute("CREATE INDEX shops_live_location ON shops USING gist (location) WHERE status = 'active'")
    op.execute(
        "CREATE INDEX shops_live_programme_location ON shops USING gist (programme_id, location) "
        "WHERE status = 'active'"
    )
    op.execute("CREATE INDEX shops_name_key_trgm ON shops USING gin (name_key gin_trgm_ops)")
    op.execute("CREATE INDEX shops_kana_key_trgm ON shops USING gin (kana_key gin_trgm_ops)")
    op.execute("CREATE INDEX shops_categories ON shops USING gin (categories)")
    op.execute("CREATE INDEX shops_amenities ON shops USING gin (amenities)")
    op.create_index("shops_municipality_code", "shops", ["municipality_code"])

    op.create_table(
        "rejected_rows",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "run_id", sa.BigInteger, sa.ForeignKey("ingest_runs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("line", sa.Integer, nullable=False),
        sa.Column("field", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("value", sa.Text),
        sa.Column("raw", JSONB, nullable=False, server_default="{}"),
    )
    op.create_index("rejected_rows_run", "rejected_rows", ["run_id", "line"])

    op.create_table(
        "handoffs",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("from_programme_id", sa.SmallInteger, sa.ForeignKey("programmes.id"), nullable=False),
        sa.Column("to_programme", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_id", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("municipality_code", sa.Text),
        sa.Column("location", Geography("POINT", srid=4326, spatial_index=False)),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("evidence", JSONB, nullable=False, server_default="{}"),
        sa.Column("record", JSONB, nullable=False, server_default="{}"),
        sa.Column("content_hash", sa.Text, nullable=False),
        sa.Column("first_run_id", sa.BigInteger, sa.ForeignKey("ingest_runs.id")),
        sa.Column("last_run_id", sa.BigInteger, sa.ForeignKey("ingest_runs.id")),
        _now("created_at"),
        _now("updated_at"),
        sa.UniqueConstraint("from_programme_id", "to_programme", "source_id", name="handoffs_source"),
    )

    op.create_table(
        "shop_changes",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("shop_id", sa.BigInteger, nullable=False),
        sa.Column("programme_id", sa.SmallInteger, nullable=False),
        sa.Column("change", sa.Text, nullable=False),
        sa.Column("run_id", sa.BigInteger),
        _now("changed_at"),
        sa.CheckConstraint("change IN ('added', 'changed', 'removed')", name="shop_changes_kind"),
    )
    op.create_index("shop_changes_changed_at", "shop_changes", ["changed_at", "id"])


def downgrade() -> None:
    for table in ("shop_changes", "handoffs", "rejected_rows", "shops", "ingest_runs", "programmes"):
        op.drop_table(table)
    op.execute("DROP FUNCTION IF EXISTS kosodate_point(double precision, double precision)")
