"""Operator overrides: stored, shown with their reason, kept across re-ingest, undoable; the CLI."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text

from ingest.errors import IngestError
from ingest.overrides import Override, clear, override, rebuild
from ingest.pipeline import ingest_file
from ingest.programmes import load_programme
from kosodate.cli import main
from search.settings import DbSettings
from tests.conftest import SAMPLE


def _shop(engine: Engine, source_id: str) -> tuple[int, list[str], list[str], list[dict[str, str]]]:
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT id, categories, amenities, tags FROM shops WHERE source_id = :s"), {"s": source_id}
        ).one()
    return int(row.id), list(row.categories), list(row.amenities), list(row.tags)


def test_override_survives_reingest_and_can_be_undone(engine: Engine) -> None:
    path = SAMPLE / "sample_aichi.csv"
    ingest_file(engine, path, load_programme("aichi"))
    shop_id, cats, amenities, _ = _shop(engine, "ASMP-002")
    assert cats == ["discount"] and amenities == []
    override(
        engine,
        shop_id,
        add=["amenity:nursing_room"],
        remove=["category:discount"],
        reason="visited: room on 2F",
    )
    _, cats, amenities, tags = _shop(engine, "ASMP-002")
    assert cats == ["facility"] and amenities == ["nursing_room"]
    whys = {(t["kind"], t["value"]): t["why"] for t in tags}
    assert whys[("amenity", "nursing_room")] == "operator: visited: room on 2F"
    assert whys[("removed", "category:discount")] == "operator: visited: room on 2F"
    # a snapshot re-ingest (content unchanged) and a changed file both keep the operator's word
    ingest_file(engine, path, load_programme("aichi"), mode="snapshot")
    assert _shop(engine, "ASMP-002")[1:3] == (["facility"], ["nursing_room"])
    with engine.begin() as conn:
        conn.execute(text("UPDATE shops SET content_hash = 'stale' WHERE id = :i"), {"i": shop_id})
    ingest_file(engine, path, load_programme("aichi"))
    assert _shop(engine, "ASMP-002")[1:3] == (["facility"], ["nursing_room"])
    tags = clear(engine, shop_id)
    assert {(t["kind"], t["value"]) for t in tags} >= {("category", "discount")}
    assert _shop(engine, "ASMP-002")[1:3] == (["discount"], [])


def test_override_rejects_bad_input_and_changes_nothing(engine: Engine) -> None:
    ingest_file(engine, SAMPLE / "sample_aichi.csv", load_programme("aichi"))
    shop_id, cats, amenities, _ = _shop(engine, "ASMP-002")
    with pytest.raises(IngestError, match="unknown amenity"):
        override(engine, shop_id, add=["amenity:sauna"], reason="x")
    with pytest.raises(IngestError, match="reason"):
        override(engine, shop_id, add=["amenity:nursing_room"], reason=" ")
    with pytest.raises(IngestError, match="no shop"):
        override(engine, 10**9, add=["amenity:nursing_room"], reason="x")
    assert _shop(engine, "ASMP-002")[1:3] == (cats, amenities)


def test_rebuild_is_idempotent() -> None:
    derived = [{"kind": "category", "value": "discount", "why": "perk text: 割引"}]
    ovs = [
        Override("remove", "category", "discount", "wrong"),
        Override("add", "amenity", "kids_corner", "seen"),
    ]
    once = rebuild(derived, ovs)
    assert rebuild(once, ovs) == once
    assert rebuild(once, []) == derived


def test_cli_tag_override(engine: Engine, db_settings: DbSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    ingest_file(engine, SAMPLE / "sample_aichi.csv", load_programme("aichi"))
    shop_id = _shop(engine, "ASMP-005")[0]
    monkeypatch.setenv("KOSODATE_DATABASE_URL", db_settings.sqlalchemy_url())
    runner = CliRunner()
    args = ["tag", "override", str(shop_id), "--add", "amenity:kids_corner", "--remove", "category:discount",
            "--reason", "owner phoned"]  # fmt: skip
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "amenity:kids_corner  <- operator: owner phoned" in result.output
    shown = runner.invoke(main, ["tag", "show", str(shop_id)])
    assert "override: remove category:discount (owner phoned)" in shown.output
    bad = runner.invoke(main, ["tag", "override", str(shop_id), "--add", "nursing_room", "--reason", "x"])
    assert bad.exit_code == 1 and "category:<name> or amenity:<name>" in bad.output
