"""Migration s5_3_shop_refs: a shop's programme and runs are checked once per statement, and kept.

The three references of ``shops`` are no longer foreign keys but statement-level triggers; these tests
hold them to what the foreign keys did: a missing programme or run fails the write with SQLSTATE
23503, a named programme or run cannot be deleted, renumbered or truncated away, and a writer's
programme is locked against deletion until it commits.
"""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from ingest.pipeline import ingest_file
from ingest.programmes import load_programme
from search.settings import DbSettings
from tests.conftest import SAMPLE

# A stored shop written again under another source id, with one reference replaced.
_COPY = (
    "INSERT INTO shops (programme_id, source, source_id, name, name_key, address, content_hash, "
    "first_run_id, last_run_id) "
    "SELECT {programme}, source, source_id || '-copy-' || random(), name, name_key, address, content_hash, "
    "{first_run}, {last_run} FROM shops ORDER BY id LIMIT 1"
)


def _sqlstate(engine: Engine, statement: str) -> str | None:
    try:
        with engine.begin() as conn:
            conn.execute(text(statement))
    except DBAPIError as exc:
        return getattr(exc.orig, "sqlstate", None)
    return None


@pytest.fixture
def loaded(engine: Engine) -> Engine:
    ingest_file(engine, SAMPLE / "sample_kanagawa.csv", load_programme("kanagawa"))
    return engine


def _ids(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT programme_id, first_run_id FROM shops ORDER BY id LIMIT 1")).one()
    return int(row.programme_id), int(row.first_run_id)


def test_a_shop_naming_a_missing_programme_or_run_is_refused(loaded: Engine) -> None:
    programme, run = _ids(loaded)
    assert _sqlstate(loaded, _COPY.format(programme=programme, first_run=run, last_run=run)) is None
    assert _sqlstate(loaded, _COPY.format(programme=999, first_run=run, last_run=run)) == "23503"
    assert _sqlstate(loaded, _COPY.format(programme=programme, first_run=run, last_run=99999)) == "23503"
    assert _sqlstate(loaded, _COPY.format(programme=programme, first_run=99999, last_run=run)) == "23503"
    # an update is checked too: here every shop at once, one of them wrong
    one_wrong = "UPDATE shops SET last_run_id = CASE WHEN id % 2 = 0 THEN 99999 ELSE last_run_id END"
    assert _sqlstate(loaded, one_wrong) == "23503"
    assert _sqlstate(loaded, f"UPDATE shops SET programme_id = {programme}") is None


def test_the_message_names_what_is_missing(loaded: Engine) -> None:
    _, run = _ids(loaded)
    with pytest.raises(DBAPIError, match="programme id 999, which does not exist"), loaded.begin() as conn:
        conn.execute(text(_COPY.format(programme=999, first_run=run, last_run=run)))


def test_a_named_programme_or_run_cannot_be_removed(loaded: Engine) -> None:
    programme, run = _ids(loaded)
    assert _sqlstate(loaded, f"DELETE FROM programmes WHERE id = {programme}") == "23503"
    assert _sqlstate(loaded, f"UPDATE programmes SET id = 999 WHERE id = {programme}") == "23503"
    assert _sqlstate(loaded, f"DELETE FROM ingest_runs WHERE id = {run}") == "23503"
    assert _sqlstate(loaded, "TRUNCATE ingest_runs CASCADE") == "23503"
    assert _sqlstate(loaded, "TRUNCATE programmes CASCADE") == "23503"
    # what no shop names can go; and with the shops, so can the rest
    with loaded.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO programmes (code, name, prefecture_codes, config) "
                "VALUES ('spare', 's', '{}', '{}')"
            )
        )
    assert _sqlstate(loaded, "DELETE FROM programmes WHERE code = 'spare'") is None
    assert _sqlstate(loaded, "TRUNCATE shops, ingest_runs, programmes CASCADE") is None


def test_a_writers_programme_is_locked_until_it_commits(loaded: Engine, db_settings: DbSettings) -> None:
    programme, run = _ids(loaded)
    dsn = db_settings.libpq_url()
    with psycopg.connect(dsn) as writer, psycopg.connect(dsn) as other:
        writer.execute(_COPY.format(programme=programme, first_run=run, last_run=run))  # not committed
        other.execute("SET lock_timeout = '300ms'")
        # the deleter cannot see the writer's new shop yet, but the programme is locked
        with pytest.raises(psycopg.errors.LockNotAvailable):
            other.execute("DELETE FROM programmes WHERE id = %s", (programme,))
        other.rollback()
        writer.rollback()
