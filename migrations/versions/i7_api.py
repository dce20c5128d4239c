"""Public API support: a read-only role, geometry indexes for bbox and tile queries.

Revision ID: i7_api
Revises: i4_geo
"""

from __future__ import annotations

from alembic import op

revision = "i7_api"
down_revision = "i4_geo"  # the boundaries table comes from the geocoding migration
branch_labels = None
depends_on = None


def upgrade() -> None:
    # bbox (OGC items) and tile queries filter on the planar envelope; the geography index cannot serve
    # a geometry envelope, so give the live rows a geometry index as well.
    op.execute(
        "CREATE INDEX IF NOT EXISTS shops_live_geom ON shops USING gist (geometry(location)) "
        "WHERE status = 'active'"
    )
    # Municipal boundaries (created, with their spatial index, by i4_geo) are the second tile layer.
    # The public API connects as this role: it can read everything and write nothing. Roles are
    # cluster-wide, so it is created once and granted per database.
    op.execute(
        """
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kosodate_reader') THEN
                CREATE ROLE kosodate_reader LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
            END IF;
            EXECUTE format('GRANT CONNECT ON DATABASE %I TO kosodate_reader', current_database());
        END
        $$
        """
    )
    op.execute("ALTER ROLE kosodate_reader SET default_transaction_read_only = on")
    op.execute("GRANT USAGE ON SCHEMA public TO kosodate_reader")
    op.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO kosodate_reader")
    op.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO kosodate_reader")


def downgrade() -> None:
    op.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT ON TABLES FROM kosodate_reader")
    op.execute("REVOKE SELECT ON ALL TABLES IN SCHEMA public FROM kosodate_reader")
    op.execute("REVOKE USAGE ON SCHEMA public FROM kosodate_reader")
    op.execute(
        "DO $$ BEGIN EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM kosodate_reader', current_database()); END $$"
    )
    op.execute("DROP INDEX IF EXISTS shops_live_geom")
