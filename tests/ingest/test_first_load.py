"""A programme's first load COPYs its batches straight into ``shops`` (ingest.staging.SHOP_COLUMNS, then
ingest/sql/log_new_shops.sql) instead of merging them against ``shops``: the stored rows, the change
history and the run's accounting must be exactly what the merge path writes, and everything after it
(re-runs, changes, snapshots) the same."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

import ingest.load
import ingest.staging
from ingest.errors import IngestError
from ingest.pipeline import ingest_file
from ingest.programmes import load_programme
from tests.conftest import shared_file

# Differ by design between two loads of the same file.
VOLATILE = (
    "id",
    "first_run_id",
    "last_run_id",
    "created_at",
    "updated_at",
    "status_changed_at",
    "geocoded_at",
)
HEADER = "source_id,name,address,lat,lng,registered_on,withdrawn_on,closed_on\n"


def _state(engine: Engine) -> dict[str, Any]:
    drop = " ".join(f"- '{key}'" for key in VOLATILE)
    with engine.connect() as conn:
        shops = [
            json.loads(r)
            for r in conn.execute(
                text(f"SELECT (to_jsonb(s) {drop})::text FROM shops s ORDER BY programme_id, source_id")
            ).scalars()
        ]
        changes = conn.execute(
            text(
                "SELECT s.source_id, c.change, c.reason, c.effective_on FROM shop_changes c "
                "JOIN shops s ON s.id = c.shop_id ORDER BY 1, c.id"
            )
        ).all()
    return {"shops": shops, "changes": [tuple(c) for c in changes]}


def _forget(engine: Engine) -> None:
    """Back to an empty database (the runs stay: ids only ever grow)."""
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM shop_changes"))
        conn.execute(text("DELETE FROM rejected_rows"))
        conn.execute(text("DELETE FROM shops"))


def _counts(summary: Any) -> tuple[int, ...]:
    return (
        summary.rows, summary.loaded, summary.updated, summary.unchanged, summary.rejected,
        summary.handed_off, summary.pending_geocode, summary.withdrawn,
    )  # fmt: skip


def _ended_registrations(tmp_path: Path) -> Path:
    """Live shops, and shops whose registration has already ended (withdrawn, closed): those are
    stored out of search and logged as removed on the load that brings them."""
    path = tmp_path / "ended.csv"
    path.write_text(
        HEADER
        + "E1,カフェ モカ,石川県金沢市本町2-2,36.5,136.6,2024-05-01,,\n"
        + "E2,パン工房 ミル,石川県金沢市本町3-1,36.5,136.6,2024-05-01,2025-01-31,\n"
        + "E3,喫茶 ひまわり,石川県金沢市片町1-1,36.5,136.6,2024-05-01,,2025-02-28\n"
        + "E4,書店 ことのは,石川県金沢市片町1-2,,,2024-05-01,,\n"
        + "E5,書店 ことのは,石川県金沢市片町1-2,36.5,136.6,2024-05-01,,\n",  # a duplicate of E4
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("batch", [3, 5000])
def test_first_load_writes_what_the_merge_writes(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    monkeypatch.setattr(ingest.load, "BATCH", batch)
    monkeypatch.setattr(ingest.load, "FIRST_BATCH", 2)
    files = [
        (shared_file("shops", "ishikawa_prepass_2014_raw_shared.csv"), "ishikawa"),
        (_ended_registrations(tmp_path), "ishikawa"),
    ]
    used: list[str] = []
    real_sql = ingest.load._sql

    def recorded_sql(name: str) -> str:
        used.append(name)
        return real_sql(name)

    monkeypatch.setattr(ingest.load, "_sql", recorded_sql)

    def load_all() -> list[tuple[int, ...]]:
        return [_counts(ingest_file(engine, path, load_programme(code))) for path, code in files]

    # The merge path, as every first load went before: forced by hiding that the programme is new.
    real_init = ingest.load.Loader.__init__

    def as_merge(self: ingest.load.Loader, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        self.first_load = False

    with monkeypatch.context() as patched:
        patched.setattr(ingest.load.Loader, "__init__", as_merge)
        merged_counts = load_all()
    merged = _state(engine)
    assert "log_new_shops.sql" not in used
    assert any(change == "removed" for _, change, _, _ in merged["changes"])
    assert merged_counts[1][4] == 1 and merged_counts[1][6] == 1  # the duplicate, the shop with no point

    _forget(engine)
    used.clear()
    # The first file is the programme's first load; the second finds shops there and merges.
    direct_counts = load_all()
    assert used.count("log_new_shops.sql") > (1 if batch == 5000 else 100)
    assert "merge_shops.sql" in used
    assert direct_counts == merged_counts
    assert _state(engine) == merged

    # And what comes after a first load is unchanged: a re-run changes nothing.
    rerun = ingest_file(engine, files[0][0], load_programme("ishikawa"))
    assert (rerun.loaded, rerun.updated, rerun.unchanged) == (0, 0, merged_counts[0][1])
    assert _state(engine) == merged


def test_first_load_of_only_ended_registrations_and_snapshot(engine: Engine, tmp_path: Path) -> None:
    """A snapshot first load: every row counted, ended registrations out of search; the second
    snapshot withdraws what disappeared, through the merge path."""
    path = _ended_registrations(tmp_path)
    programme = load_programme("ishikawa")
    first = ingest_file(engine, path, programme, mode="snapshot")
    assert (first.rows, first.loaded, first.rejected, first.pending_geocode) == (5, 3, 1, 1)
    with engine.connect() as conn:
        live = conn.execute(text("SELECT source_id FROM shops WHERE status = 'active' ORDER BY 1")).scalars()
        assert list(live) == ["E1", "E4"]
    shorter = tmp_path / "shorter.csv"
    shorter.write_text(
        "".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[:2]), encoding="utf-8"
    )
    second = ingest_file(engine, shorter, programme, mode="snapshot")
    assert (second.unchanged, second.withdrawn) == (1, 1)  # E4 withdrawn (E2, E3 had already ended)


def test_a_shop_committed_meanwhile_fails_the_first_load_cleanly(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first-load path assumes nobody else writes the programme's shops during the run. If
    another run did, the insert fails on the unique constraint: nothing of this run is kept, and
    running it again (now not a first load) completes."""
    path = _ended_registrations(tmp_path)
    programme = load_programme("ishikawa")
    other = tmp_path / "other.csv"
    other.write_text(
        HEADER + "E1,カフェ モカ,石川県金沢市本町2-2,36.5,136.6,2024-05-01,,\n", encoding="utf-8"
    )
    real_init = ingest.load.Loader.__init__

    def another_run_commits(self: ingest.load.Loader, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        assert self.first_load
        monkeypatch.setattr(ingest.load.Loader, "__init__", real_init)
        ingest_file(engine, other, programme)  # its own connection and transaction, committed

    monkeypatch.setattr(ingest.load.Loader, "__init__", another_run_commits)
    with pytest.raises(IngestError, match="changed nothing"):
        ingest_file(engine, path, programme)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT array_agg(source_id) FROM shops")).scalar_one() == ["E1"]
    again = ingest_file(engine, path, programme)
    assert (again.loaded, again.unchanged, again.rejected) == (2, 1, 1)


def test_the_trigger_fills_codes_of_a_row_inserted_without_them(engine: Engine) -> None:
    """Migration s4_3_codes_trigger_when: the insert trigger still runs for rows without codes."""
    ingest_file(engine, shared_file("shops", "matsudo_mirai_card_2017.csv"), load_programme("matsudo"))
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO shops (programme_id, source, source_id, name, name_key, address, content_hash) "
                "SELECT programme_id, 'manual', 'M1', 'すし丸', 'すし丸', '千葉県松戸市本町1', 'x' "
                "FROM shops LIMIT 1"
            )
        )
        name_codes, address_codes, twin = conn.execute(
            text(
                "SELECT name_codes, address_codes, kosodate_name_codes(name_key, kana_key, romaji_key) "
                "FROM shops WHERE source_id = 'M1'"
            )
        ).one()
    assert name_codes == twin and address_codes


def test_a_first_load_copies_the_columns_the_merge_inserts() -> None:
    """The first load's columns (ingest.staging.SHOP_COLUMNS) are those new_shop_row.sql gives a new
    shop in the merge: a column added to one and not the other fails here, before any load."""
    sql = (Path(ingest.load.__file__).parent / "sql" / "new_shop_row.sql").read_text(encoding="utf-8")
    body = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    listed = body[body.index("(") + 1 : body.index(")")]
    merged = [c.strip() for c in listed.split(",")]
    assert len(set(merged)) == len(merged)
    # status_changed_at is now() in the merge and the column's default, now(), in a first load.
    assert sorted(ingest.staging.SHOP_COLUMNS) == sorted(set(merged) - {"status_changed_at"})


def test_a_first_load_point_is_the_point_the_merge_makes(engine: Engine) -> None:
    """The hex EWKB a first load COPYs is byte for byte the geography kosodate_point makes."""
    points = [(36.561325, 136.656205), (35.0, 139.0), (-33.8688, 151.2093), (24.0459, 123.8051), (45.5, -0.1)]
    staged = [
        tuple(lat if c == "lat" else lng if c == "lng" else None for c in ingest.staging.STAGING_COLUMNS)
        for lat, lng in points
    ]
    at = ingest.staging.SHOP_COLUMNS.index("location")
    with engine.connect() as conn:
        for (lat, lng), row in zip(points, staged, strict=True):
            made = ingest.staging.new_shop_row(row, "2026-01-01 00:00:00+00", 1)[at]
            same = conn.execute(
                text("SELECT kosodate_point(:lat, :lng)::text = :ewkb, CAST(:ewkb AS geography)::text"),
                {"lat": lat, "lng": lng, "ewkb": made},
            ).one()
            assert same[0], (lat, lng, made, same[1])
