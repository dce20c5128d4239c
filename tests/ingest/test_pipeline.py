"""The foundation pipeline on a real PostGIS: accounting, idempotency, hand-off, one transaction."""

from __future__ import annotations

import csv
import gc
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from ingest.errors import IngestError
from ingest.pipeline import CHUNK, RUN_GC_THRESHOLDS, _rarer_collections, ingest_file
from ingest.profile import load_profile
from ingest.programmes import load_programme
from search.tables import handoffs, ingest_runs, rejected_rows, shop_changes, shops
from tests.conftest import SAMPLE, shared_file


def _count(engine: Engine, table: object, *where: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())  # type: ignore[arg-type]


def test_sample_kanagawa_accounts_for_every_row(engine: Engine) -> None:
    summary = ingest_file(engine, SAMPLE / "sample_kanagawa.csv", load_programme("kanagawa"))
    assert summary.profile == "kosodate"
    assert summary.rows == 23
    assert (summary.loaded, summary.handed_off, summary.pending_geocode, summary.rejected) == (18, 4, 1, 0)
    assert summary.accounted == summary.rows
    assert summary.location_flags.get("swapped_latlng") == 1
    # Yokohama is never loaded as a Kanagawa passport shop ...
    assert _count(engine, shops, shops.c.municipality_code.between("14100", "14118")) == 0
    assert _count(engine, shops, shops.c.address.like("%横浜市%")) == 0
    # ... it waits in the hand-off table, with its reason and evidence.
    with engine.connect() as conn:
        rows = conn.execute(
            select(handoffs.c.to_programme, handoffs.c.municipality_code, handoffs.c.reason)
        ).all()
    assert sorted(r.municipality_code for r in rows) == ["14103", "14104", "14109", "14117"]
    assert {r.to_programme for r in rows} == {"hamahug"}
    assert all("HamaHug" in r.reason for r in rows)


def test_swapped_coordinates_are_repaired(engine: Engine) -> None:
    ingest_file(engine, SAMPLE / "sample_kanagawa.csv", load_programme("kanagawa"))
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT ST_Y(location::geometry) AS lat, ST_X(location::geometry) AS lng, location_flags "
                "FROM shops WHERE source_id = 'KSMP-010'"
            )
        ).one()
    assert (round(row.lat, 4), round(row.lng, 4)) == (35.3304, 139.4069)
    assert "swapped_latlng" in row.location_flags


def test_reingest_changes_nothing(engine: Engine) -> None:
    programme = load_programme("kanagawa")
    ingest_file(engine, SAMPLE / "sample_kanagawa.csv", programme)
    with engine.connect() as conn:
        before = conn.execute(text("SELECT id, content_hash, updated_at FROM shops ORDER BY id")).all()
    changes_before = _count(engine, shop_changes)
    again = ingest_file(engine, SAMPLE / "sample_kanagawa.csv", programme)
    assert (again.loaded, again.updated, again.unchanged, again.handed_off) == (0, 0, 18, 4)
    with engine.connect() as conn:
        after = conn.execute(text("SELECT id, content_hash, updated_at FROM shops ORDER BY id")).all()
    assert before == after
    assert _count(engine, shop_changes) == changes_before


def test_changed_row_updates_and_snapshot_withdraws(engine: Engine, tmp_path: Path) -> None:
    programme = load_programme("kanagawa")
    ingest_file(engine, SAMPLE / "sample_kanagawa.csv", programme)
    with (SAMPLE / "sample_kanagawa.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows[0]["perk_text"] = "パン2個プレゼント"
    del rows[1]  # KSMP-002 disappears from the registry
    edited = tmp_path / "edited.csv"
    with edited.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    delta = ingest_file(engine, edited, programme)
    assert (delta.updated, delta.withdrawn) == (1, 0)
    snapshot = ingest_file(engine, edited, programme, mode="snapshot")
    assert (snapshot.updated, snapshot.withdrawn) == (0, 1)
    with engine.connect() as conn:
        status = conn.execute(text("SELECT status FROM shops WHERE source_id = 'KSMP-002'")).scalar_one()
        kinds = conn.execute(text("SELECT change, count(*) FROM shop_changes GROUP BY change")).all()
    assert status == "withdrawn"
    # 18 placed shops and the one waiting for geocoding were added
    assert dict(kinds) == {"added": 19, "changed": 1, "removed": 1}


def test_bad_rows_are_rejected_with_reasons(engine: Engine, tmp_path: Path) -> None:
    header = "source_id,name,address,lat,lng,categories,municipality_code,registered_on\n"
    body = (
        "A1,良いお店,神奈川県藤沢市藤沢1-1,35.34,139.49,discount,14205,2024-04-01\n"
        "A2,,神奈川県藤沢市藤沢1-2,35.34,139.49,,14205,\n"
        "A3,名前だけ,,,,,,\n"
        "A4,変なカテゴリ,神奈川県藤沢市藤沢1-4,35.34,139.49,cheap,14205,\n"
        "A5,悪いコード,神奈川県藤沢市藤沢1-5,35.34,139.49,,142052,\n"
        "A6,悪い日付,神奈川県藤沢市藤沢1-6,35.34,139.49,,14205,2024-13-40\n"
        "A1,重複,神奈川県藤沢市藤沢1-1,35.34,139.49,,14205,\n"
        "A8,愛知のお店,愛知県名古屋市中区栄1-1,35.17,136.90,,,\n"
        "A9,ロンドン,神奈川県藤沢市藤沢1-9,51.5,-0.12,,14205,\n"
    )
    path = tmp_path / "bad.csv"
    path.write_text(header + body, encoding="utf-8")
    summary = ingest_file(engine, path, load_programme("kanagawa"))
    assert summary.rows == 9
    assert (summary.loaded, summary.rejected, summary.pending_geocode) == (1, 7, 1)
    with engine.connect() as conn:
        reasons = dict(
            conn.execute(
                select(rejected_rows.c.line, rejected_rows.c.reason).order_by(rejected_rows.c.line)
            ).all()
        )
    assert "no name" in reasons[3]
    assert "neither an address nor coordinates" in reasons[4]
    assert "unknown category 'cheap'" in reasons[5]
    assert "check digit" in reasons[6]
    assert "not a date" in reasons[7]
    assert "duplicate source_id" in reasons[8]
    assert "outside the programme's area" in reasons[9]
    # the London point is not trusted: the shop waits for geocoding, flagged
    with engine.connect() as conn:
        flags = conn.execute(text("SELECT location_flags FROM shops WHERE source_id = 'A9'")).scalar_one()
    assert flags == ["source_point_outside_japan"]


def test_failed_run_leaves_previous_data_intact(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    programme = load_programme("kanagawa")
    ingest_file(engine, SAMPLE / "sample_kanagawa.csv", programme)
    with engine.connect() as conn:
        before = conn.execute(text("SELECT id, content_hash FROM shops ORDER BY id")).all()
    with (SAMPLE / "sample_kanagawa.csv").open(encoding="utf-8") as fh:
        changed = fh.read().replace("プレゼント", "進呈")
    path = tmp_path / "changed.csv"
    path.write_text(changed, encoding="utf-8")

    from ingest.locate import Locator  # noqa: PLC0415

    real_geocode = Locator.geocode
    calls = {"n": 0}

    def failing_geocode(self, shop):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 12:
            raise OSError("disk went away")
        return real_geocode(self, shop)

    monkeypatch.setattr(Locator, "geocode", failing_geocode)
    with pytest.raises(IngestError, match="changed nothing"):
        ingest_file(engine, path, programme)
    with engine.connect() as conn:
        after = conn.execute(text("SELECT id, content_hash FROM shops ORDER BY id")).all()
        status = conn.execute(
            select(ingest_runs.c.status).order_by(ingest_runs.c.id.desc()).limit(1)
        ).scalar_one()
    assert after == before
    assert status == "failed"


def test_ishikawa_2017_through_its_profile(engine: Engine) -> None:
    path = shared_file("shops", "ishikawa_prepass_2017_shared.csv")
    summary = ingest_file(engine, path, load_programme("ishikawa"))
    assert summary.profile == "ishikawa_prepass_2017"
    assert summary.rows == 1842
    assert summary.accounted == 1842
    # one shop has an Aichi (Nagoya) address, one has neither address nor point
    assert summary.rejected == 2
    assert summary.loaded == 1840
    with engine.connect() as conn:
        nursing = conn.execute(
            text("SELECT count(*) FROM shops WHERE 'nursing_room' = ANY(amenities)")
        ).scalar_one()
        reason = conn.execute(
            text("SELECT tags FROM shops WHERE 'nursing_room' = ANY(amenities) LIMIT 1")
        ).scalar_one()
    assert nursing > 50
    assert {"kind": "amenity", "value": "nursing_room", "why": "flag nursing_room"} in reason
    again = ingest_file(
        engine, path, load_programme("ishikawa"), profile=load_profile("ishikawa_prepass_2017")
    )
    assert (again.loaded, again.updated, again.unchanged) == (0, 0, 1840)


def test_rows_of_every_kind_across_chunks_end_as_they_would_alone(engine: Engine, tmp_path: Path) -> None:
    """The pipeline takes rows a chunk at a time (ingest.pipeline.CHUNK); a file of rejected,
    duplicate, out-of-area and waiting rows spread over several chunks ends row for row as each
    block of it would alone, and its rejections are listed in file order."""
    header = "source_id,name,address,lat,lng,categories,municipality_code,registered_on\n"
    block = (
        "{k}1,良いお店{k},神奈川県藤沢市藤沢{k}-1,35.34,139.49,discount,14205,2024-04-01\n"
        "{k}2,,神奈川県藤沢市藤沢{k}-2,35.34,139.49,,14205,\n"
        "{k}3,名前だけ{k},,,,,,\n"
        "{k}4,変なカテゴリ{k},神奈川県藤沢市藤沢{k}-4,35.34,139.49,cheap,14205,\n"
        "{k}5,悪いコード{k},神奈川県藤沢市藤沢{k}-5,35.34,139.49,,142052,\n"
        "{k}6,悪い日付{k},神奈川県藤沢市藤沢{k}-6,35.34,139.49,,14205,2024-13-40\n"
        "{k}1,重複{k},神奈川県藤沢市藤沢{k}-1,35.34,139.49,,14205,\n"
        "{k}8,愛知のお店{k},愛知県名古屋市中区栄{k}-1,35.17,136.90,,,\n"
        "{k}9,ロンドン{k},神奈川県藤沢市藤沢{k}-9,51.5,-0.12,,14205,\n"
    )
    blocks = 3 * CHUNK // 9 + 1  # rows of every kind in each of four chunks
    path = tmp_path / "bad_many.csv"
    path.write_text(header + "".join(block.format(k=f"B{k}-") for k in range(blocks)), encoding="utf-8")
    summary = ingest_file(engine, path, load_programme("kanagawa"))
    assert summary.rows == 9 * blocks > 3 * CHUNK
    assert (summary.loaded, summary.rejected, summary.pending_geocode) == (blocks, 7 * blocks, blocks)
    lines = [r.line for r in summary.rejections]
    assert lines == sorted(lines)
    kinds = ["no name", "neither an address", "unknown category", "check digit", "not a date",
             "duplicate source_id", "outside the programme's area"]  # fmt: skip
    with engine.connect() as conn:
        reasons = conn.execute(
            select(rejected_rows.c.line, rejected_rows.c.reason).order_by(rejected_rows.c.line)
        ).all()
    assert len(reasons) == 7 * blocks
    for i, (line, reason) in enumerate(reasons):
        assert (line - 2) // 9 == i // 7  # each block's rejections come from its own rows
        assert kinds[i % 7] in reason, (line, reason)


def test_a_run_leaves_no_gin_pending_list(engine: Engine) -> None:
    """A run lets the GIN pending lists grow (ingest.load.PENDING_LIST_LIMIT) and empties them
    before it commits: searches after it scan no unmerged entries. (A small run's entries, far
    below any limit, would otherwise all still be pending.)"""
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        gins = (
            conn.execute(
                text(
                    "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "JOIN pg_am a ON a.oid = c.relam "
                    "WHERE i.indrelid = 'shops'::regclass AND a.amname = 'gin'"
                )
            )
            .scalars()
            .all()
        )
    summary = ingest_file(engine, SAMPLE / "sample_kanagawa.csv", load_programme("kanagawa"))
    assert summary.loaded > 0
    assert len(gins) >= 3
    with engine.connect() as conn:
        pending = {
            g: conn.execute(
                text("SELECT n_pending_tuples FROM gin_metapage_info(get_raw_page(:g, 0))"), {"g": g}
            ).scalar_one()
            for g in gins
        }
    assert pending == dict.fromkeys(gins, 0)


def test_overlapping_runs_put_the_collector_back_as_it_was() -> None:
    """Runs set rarer collector thresholds while they go; runs overlapping on a server's threads
    leave the process's thresholds as they were before the first began, whatever order they end in."""
    before = gc.get_threshold()
    first, second = _rarer_collections(), _rarer_collections()
    first.__enter__()
    second.__enter__()
    assert gc.get_threshold() == RUN_GC_THRESHOLDS
    first.__exit__(None, None, None)  # the first run ends while the second still goes
    assert gc.get_threshold() == RUN_GC_THRESHOLDS
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before
