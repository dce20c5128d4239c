"""Formula injection (CSV injection): text from registry files that a spreadsheet would run.

Shop names and perk texts that start with ``=``, ``+``, ``-``, ``@``, a tab or a CR go in through the
real ingest and come out of every CSV we write (the HTTP download, ``kosodate export``, the rejection
report and the HamaHug hand-off file) with a leading ``'``, the rule in docs/public-api.md; JSON and
GeoJSON keep the text as stored.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import anyio
import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text

from api import create_app
from api.settings import AppSettings
from ingest.pipeline import ingest_file
from ingest.programmes import load_programme
from kosodate.cli import main
from search.exports import safe_cell
from search.settings import DbSettings

pytestmark = [pytest.mark.fault, pytest.mark.db]
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")

ROWS = [
    # source_id, name, address, lat, lng, perk_text, categories
    ("FX1", "=cmd|' /C calc'!A0", "神奈川県藤沢市藤沢1-1", "35.3387", "139.4871", "@SUM(1+1)", ""),
    ("FX2", "@SUM(1+1) 商店", "神奈川県藤沢市藤沢1-2", "35.3390", "139.4875", '=HYPERLINK("http://x")', ""),
    ("FX3", "+81 カフェ", "神奈川県藤沢市藤沢1-3", "35.3392", "139.4877", "-10%オフ", ""),
    ("FX4", "-ハイフン屋", "神奈川県藤沢市藤沢1-4", "35.3394", "139.4879", "+1品サービス", ""),
    ("FX5", "\t=1+1 タブ", "神奈川県藤沢市藤沢1-5", "35.3396", "139.4881", "\r=2+2", ""),
    ("FX6", "＝全角イコール", "神奈川県藤沢市藤沢1-6", "35.3398", "139.4883", "＠全角", ""),
    ("FX7", "分類が変", "神奈川県藤沢市藤沢1-7", "35.3399", "139.4885", "", "=cmd|' /C calc'!A0"),
    ("FX8", '=HYPERLINK("http://evil") 横浜', "神奈川県横浜市中区山下町1", "35.4437", "139.6500", "", ""),
]


def _registry(path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["source_id", "name", "address", "lat", "lng", "perk_text", "categories"])
        writer.writerows(ROWS)


def _cells(raw: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(raw.lstrip("\ufeff"), newline="")))


def _no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(DANGEROUS), f"a cell that a spreadsheet would run: {cell!r}"


async def _get(settings: DbSettings, path: str) -> httpx.Response:
    app = create_app(AppSettings(db=settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path)


def _cli(args: list[str], settings: DbSettings) -> str:
    """The real command, in this process (a subprocess spends seconds on imports)."""
    assert settings.url is not None
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("KOSODATE_")}
    env["KOSODATE_DATABASE_URL"] = settings.url.get_secret_value()
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_formulas_are_defused_in_csv_and_kept_in_json(
    db_settings: DbSettings, engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "formulas.csv"
    _registry(path)
    summary = ingest_file(engine, path, load_programme("kanagawa"))
    assert summary.rejected == 1  # FX7: its category is a formula, refused with a reason
    with engine.connect() as conn:
        shops = conn.execute(text("SELECT source_id, name, perk_text FROM shops")).all()
    stored: dict[str, str] = {r.source_id: r.name for r in shops}
    perks: dict[str, str | None] = {r.source_id: r.perk_text for r in shops}
    risky = {sid: name for sid, name in stored.items() if name.startswith(DANGEROUS)}
    assert len(risky) >= 5, stored  # the names really are stored as written (after NFKC and trimming)

    # The HTTP download.
    r = anyio.run(_get, db_settings, "/v1/exports/shops.csv")
    assert r.status_code == 200
    rows = _cells(r.content.decode("utf-8-sig"))
    _no_formula(rows)
    header = rows[0]
    by_id = {row[header.index("名称")]: row for row in rows[1:]}
    for sid, name in risky.items():
        assert safe_cell(name) in by_id, (sid, name)
        assert by_id[safe_cell(name)][header.index("名称")] == "'" + name
    for sid, perk in perks.items():
        if perk and perk.startswith(DANGEROUS):
            row = next(r for r in rows[1:] if r[header.index("名称")] == safe_cell(stored[sid]))
            assert row[header.index("特典内容")] == "'" + perk

    # The command-line export writes the same rows.
    out = tmp_path / "shops.csv"
    _cli(["export", "--format", "csv", "--out", str(out)], db_settings)
    cli_rows = _cells(out.read_text(encoding="utf-8-sig"))
    _no_formula(cli_rows)
    assert sorted(map(tuple, cli_rows)) == sorted(map(tuple, rows))

    # JSON and GeoJSON keep the text exactly as stored.
    geo = anyio.run(_get, db_settings, "/v1/exports/shops.geojson").json()
    names = {f["properties"]["name"] for f in geo["features"]}
    assert set(risky.values()) <= names
    geo_out = tmp_path / "shops.geojson"
    _cli(["export", "--format", "geojson", "--out", str(geo_out)], db_settings)
    assert set(risky.values()) <= {
        f["properties"]["name"] for f in json.loads(geo_out.read_text())["features"]
    }
    for sid, name in risky.items():
        with engine.connect() as conn:
            shop_id = conn.execute(text("SELECT id FROM shops WHERE source_id = :s"), {"s": sid}).scalar_one()
        detail = anyio.run(_get, db_settings, f"/v1/shops/{shop_id}")
        assert detail.status_code == 200 and detail.json()["name"] == name

    # The rejection report: the refused value is a formula, and must not run either.
    report = _cli(["rejections", "--run", str(summary.run_id), "--format", "csv"], db_settings)
    rejected = _cells(report)
    _no_formula(rejected)
    assert any(cell == "'=cmd|' /C calc'!A0" for row in rejected for cell in row), rejected


def test_handoff_csv_defuses_formulas(db_settings: DbSettings, engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "formulas.csv"
    _registry(path)
    summary = ingest_file(engine, path, load_programme("kanagawa"))
    if summary.handed_off == 0:
        pytest.skip("no hand-off without the gazetteer here: the Yokohama row stayed with kanagawa")
    out = _cli(["handoff", "export", "--to", "hamahug", "--format", "csv"], db_settings)
    rows = _cells(out)
    _no_formula(rows)
    assert any(cell.startswith("'=HYPERLINK") for row in rows for cell in row)
