"""The shared real files through the whole pipeline on PostGIS: profiles, repairs, parts, duplicates."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text

from ingest.pipeline import ingest_file
from ingest.programmes import load_programme
from tests.conftest import shared_file


def _one(engine: Engine, sql: str, **params: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def test_ishikawa_2014_raw_is_detected_repaired_and_idempotent(engine: Engine) -> None:
    path = shared_file("shops", "ishikawa_prepass_2014_raw_shared.csv")
    first = ingest_file(engine, path, load_programme("ishikawa"))
    assert first.profile == "ishikawa_prepass_2014_raw"
    assert first.rows == 1585 and first.accounted == 1585
    assert first.location_flags["swapped_latlng"] == 3
    repaired = _one(
        engine,
        "SELECT count(*) FROM shops WHERE 'swapped_latlng' = ANY(location_flags) "
        "AND ST_Y(location::geometry) BETWEEN 36 AND 38 AND ST_X(location::geometry) BETWEEN 136 AND 138",
    )
    assert repaired == 3
    second = ingest_file(engine, path, load_programme("ishikawa"))
    assert (second.unchanged, second.loaded, second.updated, second.rejected) == (1585, 0, 0, 0)


def test_address_parts_are_stored_and_missing_context_is_filled(engine: Engine) -> None:
    summary = ingest_file(
        engine, shared_file("facilities", "yokosuka_nurseries_2016.geojson"), load_programme("yokosuka")
    )
    assert summary.profile == "yokosuka_nurseries" and summary.loaded == 99
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT address, prefecture, municipality, town, address_rest FROM shops "
                "WHERE name = '公郷保育園'"
            )
        ).one()
    assert row.address == "神奈川県横須賀市公郷町6-7-1"
    assert (row.prefecture, row.municipality) == ("神奈川県", "横須賀市")
    assert row.town == "公郷町" and row.address_rest == "6-7-1"


def test_matsudo_and_tokyo_load_under_their_programmes(engine: Engine) -> None:
    matsudo = ingest_file(
        engine, shared_file("shops", "matsudo_mirai_card_2017.csv"), load_programme("matsudo")
    )
    assert matsudo.profile == "matsudo_mirai_card" and matsudo.accounted == matsudo.rows == 270
    tokyo = ingest_file(
        engine, shared_file("facilities", "tokyo_akachan_flat.geojson"), load_programme("tokyo")
    )
    assert tokyo.profile == "tokyo_akachan_flat" and tokyo.accounted == tokyo.rows == 1654
    # Matsudo addresses gain 千葉県; the shops outside Chiba keep their own prefecture.
    assert _one(engine, "SELECT count(*) FROM shops WHERE address LIKE '千葉県松戸市%'") > 200
    assert _one(engine, "SELECT count(*) FROM shops WHERE address LIKE '千葉県東京都%'") == 0
    assert (
        _one(engine, "SELECT count(*) FROM shops WHERE prefecture = '東京都' AND municipality = '千代田区'")
        > 0
    )


def test_duplicates_by_name_and_address_within_and_across_files(engine: Engine, tmp_path: Path) -> None:
    header = "source_id,name,address,lat,lng\n"
    first = tmp_path / "a.csv"
    first.write_text(
        header + "A1,カフェ モカ,石川県金沢市本町2-2,36.5,136.6\n"
        "A2,ｶﾌｪ ﾓｶ ,石川県金沢市本町２－２,36.5,136.6\n",  # the same shop typed differently
        encoding="utf-8",
    )
    summary = ingest_file(engine, first, load_programme("ishikawa"))
    assert (summary.loaded, summary.rejected) == (1, 1)
    assert summary.rejections[0].line == 3 and "line 2" in summary.rejections[0].reason
    second = tmp_path / "b.csv"
    second.write_text(header + "B9,カフェ モカ,石川県金沢市本町2-2,36.5,136.6\n", encoding="utf-8")
    again = ingest_file(engine, second, load_programme("ishikawa"))
    assert (again.loaded, again.rejected) == (0, 1)
    assert "kosodate:A1" in again.rejections[0].reason
    assert _one(engine, "SELECT count(*) FROM shops") == 1
    stored = _one(engine, "SELECT count(*) FROM rejected_rows WHERE run_id = :r", r=again.run_id)
    assert stored == 1
