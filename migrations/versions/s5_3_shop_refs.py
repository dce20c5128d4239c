"""What a shop refers to is checked once per statement, not once per row.

A shop refers to its programme and to the ingest runs that first and last wrote it. As foreign keys,
each of the three was checked by a query of its own for every row written: on a first load, where
every row is inserted, about an eighth of the database's CPU (bench/results/ingest_bench.md). Here
one statement-level trigger per event reads the statement's rows (a transition table), locks the
few distinct programmes and runs they name the way a foreign key does (``FOR KEY SHARE``: they cannot
be deleted or renumbered until the writer's transaction ends) and fails with the foreign-key error
(SQLSTATE 23503) if any is missing. The other side is kept too: deleting or renumbering a programme
or run that shops still name, or truncating ``programmes`` or ``ingest_runs`` without ``shops``,
fails the same way. ``search.tables`` still declares the references, for joins.

Revision ID: s5_3_shop_refs
Revises: s4_3_codes_trigger_when
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "s5_3_shop_refs"
down_revision: str | Sequence[str] | None = "s4_3_codes_trigger_when"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FOREIGN_KEYS = {
    "shops_programme_id_fkey": ("programme_id", "programmes"),
    "shops_first_run_id_fkey": ("first_run_id", "ingest_runs"),
    "shops_last_run_id_fkey": ("last_run_id", "ingest_runs"),
}


def _sql(statement: str) -> None:
    # psycopg reads % as a placeholder: the functions' own (format, RAISE) are doubled
    op.get_bind().exec_driver_sql(statement.replace("%", "%%"))


def upgrade() -> None:
    _sql(
        """
        CREATE FUNCTION kosodate_shop_refs() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            missing text;
        BEGIN
            -- Lock what the statement's rows name, as a foreign key does; each scan of the rows
            -- (new_shops) is one pass, whatever their number.
            PERFORM FROM programmes AS p
            WHERE p.id IN (SELECT programme_id FROM new_shops)
            FOR KEY SHARE OF p;
            PERFORM FROM ingest_runs AS r
            WHERE r.id IN (SELECT first_run_id FROM new_shops UNION SELECT last_run_id FROM new_shops)
            FOR KEY SHARE OF r;
            SELECT format('programme id %s', n.programme_id) INTO missing
            FROM (SELECT DISTINCT programme_id FROM new_shops) AS n
            WHERE NOT EXISTS (SELECT FROM programmes AS p WHERE p.id = n.programme_id)
            LIMIT 1;
            IF missing IS NULL THEN
                SELECT format('ingest run id %s', n.id) INTO missing
                FROM (SELECT first_run_id AS id FROM new_shops UNION SELECT last_run_id FROM new_shops) AS n
                WHERE n.id IS NOT NULL AND NOT EXISTS (SELECT FROM ingest_runs AS r WHERE r.id = n.id)
                LIMIT 1;
            END IF;
            IF missing IS NOT NULL THEN
                RAISE EXCEPTION 'a shop refers to %, which does not exist', missing
                    USING ERRCODE = 'foreign_key_violation', TABLE = 'shops';
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    for event in ("INSERT", "UPDATE"):
        _sql(
            f"CREATE TRIGGER shops_refs_{event.lower()} AFTER {event} ON shops "
            "REFERENCING NEW TABLE AS new_shops FOR EACH STATEMENT EXECUTE FUNCTION kosodate_shop_refs()"
        )
    _sql(
        """
        CREATE FUNCTION kosodate_shop_refs_kept() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                IF EXISTS (SELECT FROM shops) THEN
                    RAISE EXCEPTION 'shops refer to %: truncate shops with it', TG_TABLE_NAME
                        USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME;
                END IF;
            ELSIF TG_TABLE_NAME = 'programmes' THEN
                IF EXISTS (SELECT FROM shops WHERE programme_id = OLD.id) THEN
                    RAISE EXCEPTION 'shops still refer to programme id %', OLD.id
                        USING ERRCODE = 'foreign_key_violation', TABLE = 'programmes';
                END IF;
            ELSIF EXISTS (SELECT FROM shops WHERE first_run_id = OLD.id OR last_run_id = OLD.id) THEN
                RAISE EXCEPTION 'shops still refer to ingest run id %', OLD.id
                    USING ERRCODE = 'foreign_key_violation', TABLE = 'ingest_runs';
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    for table in ("programmes", "ingest_runs"):
        _sql(
            f"CREATE TRIGGER {table}_shop_refs_delete AFTER DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION kosodate_shop_refs_kept()"
        )
        _sql(
            f"CREATE TRIGGER {table}_shop_refs_renumber AFTER UPDATE OF id ON {table} "
            "FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION kosodate_shop_refs_kept()"
        )
        _sql(
            f"CREATE TRIGGER {table}_shop_refs_truncate AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION kosodate_shop_refs_kept()"
        )
    for name in _FOREIGN_KEYS:
        _sql(f"ALTER TABLE shops DROP CONSTRAINT IF EXISTS {name}")


def downgrade() -> None:
    for table in ("programmes", "ingest_runs"):
        for kind in ("delete", "renumber", "truncate"):
            _sql(f"DROP TRIGGER IF EXISTS {table}_shop_refs_{kind} ON {table}")
    _sql("DROP TRIGGER IF EXISTS shops_refs_insert ON shops")
    _sql("DROP TRIGGER IF EXISTS shops_refs_update ON shops")
    _sql("DROP FUNCTION IF EXISTS kosodate_shop_refs_kept()")
    _sql("DROP FUNCTION IF EXISTS kosodate_shop_refs()")
    for name, (column, table) in _FOREIGN_KEYS.items():
        _sql(f"ALTER TABLE shops ADD CONSTRAINT {name} FOREIGN KEY ({column}) REFERENCES {table} (id)")
