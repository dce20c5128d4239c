"""The load merges batch by batch on a writer thread: what needs the whole file still sees all of it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

import ingest.load
import ingest.staging
from ingest.errors import IngestError
from ingest.pipeline import ingest_file
from ingest.programmes import load_programme

HEADER = "source_id,name,address,lat,lng\n"


def _one(engine: Engine, sql: str, **params: object) -> object:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def test_duplicates_across_files_are_settled_after_the_last_batch(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest.load, "BATCH", 2)  # every two rows a batch is merged
    programme = load_programme("ishikawa")
    first = tmp_path / "a.csv"
    first.write_text(
        HEADER
        + "A1,カフェ モカ,石川県金沢市本町2-2,36.5,136.6\nA5,パン工房 ミル,石川県金沢市本町3-1,36.5,136.6\n",
        encoding="utf-8",
    )
    assert ingest_file(engine, first, programme).loaded == 2
    second = tmp_path / "b.csv"
    second.write_text(
        HEADER
        # Same name and address as A1, but this file renames A1 four lines later (a later batch):
        # not a duplicate, both are loaded.
        + "B9,カフェ モカ,石川県金沢市本町2-2,36.5,136.6\n"
        + "C1,喫茶 ひまわり,石川県金沢市片町1-1,36.5,136.6\n"
        + "C2,書店 ことのは,石川県金沢市片町1-2,36.5,136.6\n"
        + "A1,カフェ モカ 本店,石川県金沢市本町2-2,36.5,136.6\n"
        # Same name and address as A5, which this file does not mention: a duplicate.
        + "D7,パン工房 ミル,石川県金沢市本町3-1,36.5,136.6\n",
        encoding="utf-8",
    )
    summary = ingest_file(engine, second, programme)
    assert (summary.loaded, summary.updated, summary.rejected, summary.rows) == (3, 1, 1, 5)
    assert summary.rejections[0].line == 6 and "kosodate:A5" in summary.rejections[0].reason
    assert _one(engine, "SELECT name FROM shops WHERE source_id = 'A1'") == "カフェ モカ 本店"
    assert _one(engine, "SELECT count(*) FROM shops WHERE source_id = 'B9'") == 1
    assert _one(engine, "SELECT count(*) FROM shops WHERE source_id = 'D7'") == 0
    rerun = ingest_file(engine, second, programme)
    assert (rerun.loaded, rerun.updated, rerun.unchanged, rerun.rejected) == (0, 0, 4, 1)


@pytest.mark.parametrize("first_load", [True, False])
def test_a_failing_batch_rolls_back_the_batches_merged_before_it(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first_load: bool
) -> None:
    """Batch by batch, on either path: a programme's first load (COPY into shops, then the batch is
    logged) or a later load (staging, then a merge)."""
    monkeypatch.setattr(ingest.load, "BATCH", 2)
    programme = load_programme("ishikawa")
    before = 0
    if not first_load:
        earlier = tmp_path / "earlier.csv"
        earlier.write_text(HEADER + "E1,店 E,石川県金沢市片町2-1,36.5,136.6\n", encoding="utf-8")
        before = ingest_file(engine, earlier, programme).loaded
    path = tmp_path / "c.csv"
    rows = [f"S{i},店 {i},石川県金沢市片町1-{i},36.5,136.6\n" for i in range(1, 8)]
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    per_batch = "_log_new_shops" if first_load else "_merge_batch"
    real = getattr(ingest.load.Loader, per_batch)
    calls = {"n": 0}

    def failing(self: ingest.load.Loader, **kwargs: bool) -> None:
        calls["n"] += 1
        if calls["n"] == 3:  # two batches are written in the transaction by now
            self.conn.execute(text("SELECT 1 / 0"))
        real(self, **kwargs)

    monkeypatch.setattr(ingest.load.Loader, per_batch, failing)
    with pytest.raises(IngestError, match="changed nothing"):
        ingest_file(engine, path, programme)
    assert calls["n"] == 3
    assert _one(engine, "SELECT count(*) FROM shops") == before
    assert _one(engine, "SELECT count(*) FROM shop_changes") == before
    assert _one(engine, "SELECT status FROM ingest_runs ORDER BY id DESC LIMIT 1") == "failed"


@pytest.mark.parametrize(
    "values",
    [
        [],
        ["food"],
        ["milk_water", "nursing_room"],
        [""],
        ["a", ""],
        ["NULL", "null"],
        ["はぐみんカード", "かながわ子育て応援パスポート"],
        ['say "hi"', "back\\slash", "a,b", "{braced}", "two words", "tab\there", "new\nline"],
    ],
)
def test_array_text_reads_back_as_the_same_array(engine: Engine, values: list[str]) -> None:
    """The staged arrays go to COPY as text in PostgreSQL's array input form (ingest.staging.array_text):
    through COPY, every value comes back as it was, quoted or not."""
    with engine.begin() as conn:
        conn.execute(text("CREATE TEMP TABLE arrays (a text[] NOT NULL)"))
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur, cur.copy("COPY arrays (a) FROM STDIN") as copy:
            copy.write_row((ingest.staging.array_text(values),))
        assert conn.execute(text("SELECT a FROM arrays")).scalar_one() == values
