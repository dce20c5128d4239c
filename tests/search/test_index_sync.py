"""The ingest → search index hook and the Meilisearch index build.

Without a server the hook must leave ingest alone; against a closed port it must report, not raise.
The rebuild/sync round trip runs only when KOSODATE_MEILI_URL points to a real Meilisearch.
"""

from __future__ import annotations

import os
import socket
import uuid

import pytest
from sqlalchemy import Engine, select, text

from ingest.pipeline import ingest_file
from ingest.programmes import load_programme
from search.index_sync import after_ingest_run
from search.meili import document, opening_minutes
from search.search_settings import MeiliSettings
from search.tables import ingest_runs
from tests.conftest import SAMPLE

MEILI_URL = os.environ.get("KOSODATE_MEILI_URL")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _last_run(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(select(ingest_runs.c.id).order_by(ingest_runs.c.id.desc()).limit(1)).scalar_one()
        )


def test_hook_is_a_no_op_without_meilisearch(engine: Engine) -> None:
    ingest_file(engine, SAMPLE / "sample_kanagawa.csv", load_programme("kanagawa"))
    outcome = after_ingest_run(engine, _last_run(engine), MeiliSettings(url=None))
    assert outcome.startswith("search index: none configured")


def test_unreachable_meilisearch_does_not_undo_the_run(engine: Engine) -> None:
    ingest_file(engine, SAMPLE / "sample_kanagawa.csv", load_programme("kanagawa"))
    settings = MeiliSettings(url=f"http://127.0.0.1:{_closed_port()}", timeout_s=1)
    outcome = after_ingest_run(engine, _last_run(engine), settings)
    assert "NOT updated" in outcome and "kosodate index sync --run" in outcome
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM shops")).scalar_one() > 0


def test_documents_come_from_database_rows(engine: Engine) -> None:
    from search.meili import documents  # noqa: PLC0415

    ingest_file(engine, SAMPLE / "sample_kanagawa.csv", load_programme("kanagawa"))
    with engine.connect() as conn:
        docs = [d for batch in documents(conn) for d in batch]
    milk = next(d for d in docs if d["name"] == "カフェ ミルクティー 藤沢店")
    assert milk["_geo"] == {"lat": pytest.approx(35.3372), "lng": pytest.approx(139.4858)}
    assert milk["programme"] == "kanagawa" and milk["kana_key"] and milk["romaji_key"]
    assert milk["open_from"] == 600 and milk["open_until"] == 1200  # 10:00〜20:00


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        ("10:00〜20:00", (600, 1200)),
        ("9時〜18時", (540, 1080)),
        ("17:00~24:00", (1020, 1440)),
        ("年中無休", None),
    ],
)
def test_opening_minutes_agrees_with_sql(
    engine: Engine, hours: str, expected: tuple[int, int] | None
) -> None:
    assert opening_minutes(hours) == expected
    with engine.connect() as conn:
        at_noon = conn.execute(text("SELECT kosodate_open_at(:h, time '12:00')"), {"h": hours}).scalar_one()
    assert at_noon == (None if expected is None else expected[0] <= 720 < expected[1])


def test_document_marks_unknown_card_rule_as_needing_the_card() -> None:
    row = {"lat": 35.0, "lng": 139.0, "card_required": None, "hours": None, "id": 1}
    assert document(row)["card_needed"] is True


@pytest.mark.meili
@pytest.mark.skipif(MEILI_URL is None, reason="no Meilisearch server: set KOSODATE_MEILI_URL to run this")
def test_rebuild_then_incremental_sync(engine: Engine) -> None:
    from search.meili import client, rebuild  # noqa: PLC0415

    settings = MeiliSettings(index=f"test_sync_{uuid.uuid4().hex[:8]}")
    ingest_file(engine, SAMPLE / "sample_kanagawa.csv", load_programme("kanagawa"))
    count = rebuild(engine, settings)
    index = client(settings).index(settings.index)
    assert index.get_stats().number_of_documents == count
    ingest_file(engine, SAMPLE / "sample_aichi.csv", load_programme("aichi"))
    after_ingest_run(engine, _last_run(engine), settings)
    with engine.connect() as conn:
        live = conn.execute(
            text("SELECT count(*) FROM shops WHERE status = 'active' AND location IS NOT NULL")
        )
        assert index.get_stats().number_of_documents == live.scalar_one()
    client(settings).delete_index(settings.index)


def test_index_commands_need_a_meilisearch_url(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner  # noqa: PLC0415

    from kosodate.cli import main  # noqa: PLC0415

    monkeypatch.delenv("KOSODATE_MEILI_URL", raising=False)
    result = CliRunner().invoke(main, ["index", "rebuild"])
    assert result.exit_code == 2
    assert "KOSODATE_MEILI_URL is not set" in result.output
