"""Migration s8_3_rows_uncompressed: shop rows are stored without compressing their values.

A shop row with a long name, reading and perk text is over the ~2 kB at which PostgreSQL would
compress its largest values (the gram codes first); the load's staging tables and ``shops`` leave
them as they are, on the first load's direct insert and on the merge of a changed row alike.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text

from ingest.pipeline import ingest_file
from ingest.programmes import load_programme

HEADER = "source_id,name,name_kana,address,perk_text,lat,lng\n"
NAME = "湘南藤沢こどもとおとなのための総合子育て支援ひろば兼ベーカリーカフェ辻堂海浜公園前本店"
KANA = (
    "しょうなんふじさわこどもとおとなのためのそうごうこそだてしえんひろば"
    "けんべーかりーかふぇつじどうかいひんこうえんまえほんてん"
)
PERK = "お会計から5%割引、ミルク用のお湯の提供、授乳室とおむつ替えシートの貸出、" * 6
VALUES = (
    "name", "name_kana", "name_key", "kana_key", "romaji_key", "perk_text", "tags", "search_text",
    "name_codes", "address_codes",
)  # fmt: skip


def _write(path: Path, perk: str) -> Path:
    rows = [
        f'S{i},"{NAME}{i}","{KANA}",神奈川県藤沢市辻堂西海岸{i}-1-1,"{perk}",35.3{i},139.4{i}\n'
        for i in range(1, 4)
    ]
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def _compressed(engine: Engine, table: str) -> list[str]:
    """The values of ``table`` stored compressed, as "column" once per row holding one."""
    with engine.connect() as conn:
        return [
            column
            for column in VALUES
            for _ in conn.execute(
                text(f"SELECT 1 FROM {table} WHERE pg_column_compression({column}) IS NOT NULL")
            )
        ]


def test_long_rows_are_stored_uncompressed(engine: Engine, tmp_path: Path) -> None:
    programme = load_programme("kanagawa")
    first = ingest_file(engine, _write(tmp_path / "first.csv", PERK), programme)
    assert (first.loaded, first.rejected) == (3, 0)
    with engine.connect() as conn:
        sizes = conn.execute(text("SELECT pg_column_size(s.*) FROM shops s")).scalars().all()
        options = conn.execute(text("SELECT reloptions FROM pg_class WHERE oid = 'shops'::regclass")).scalar()
    assert min(sizes) > 2100, sizes  # over the size at which a row's values are compressed by default
    assert options == ["toast_tuple_target=8160"]
    assert _compressed(engine, "shops") == []

    # The merge path (a changed row goes through staging_shops and an UPDATE) stores it the same way.
    second = ingest_file(engine, _write(tmp_path / "second.csv", PERK.replace("5%", "10%")), programme)
    assert second.updated == 3
    assert _compressed(engine, "shops") == []

    # The control: the same rows in a table with the default storage are compressed.
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE probe (LIKE shops)"))
        conn.execute(text("INSERT INTO probe SELECT * FROM shops"))
    assert "name_codes" in _compressed(engine, "probe")
