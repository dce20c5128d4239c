"""The page, widget and static routes in-process (no browser): headers, safety, the page's config."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import Engine

from api import create_app
from api.settings import ApiSettings, AppSettings
from api.web_settings import WebSettings
from ingest.pipeline import ingest_file
from ingest.programmes import load_programme
from search.settings import DbSettings
from tests.conftest import SAMPLE

pytestmark = pytest.mark.anyio
CITY = "https://www.city.example.jp"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _client(settings: AppSettings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c


@pytest.fixture
async def client(db_settings: DbSettings, engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    ingest_file(engine, SAMPLE / "sample_kanagawa.csv", load_programme("kanagawa"))
    settings = AppSettings(db=db_settings, api=ApiSettings(cors_origins=[CITY]))
    async for c in _client(settings):
        yield c


async def test_page_is_html_with_a_strict_policy(client: httpx.AsyncClient) -> None:
    r = await client.get("/", headers={"Accept": "text/html"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert '<html lang="ja">' in r.text
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "gsi.go.jp" not in csp  # no external tiles unless configured
    assert r.headers["x-content-type-options"] == "nosniff"
    # Everything the page loads is ours: no absolute URL to another host.
    for attr in ('src="', 'href="'):
        for part in r.text.split(attr)[1:]:
            assert part.startswith(("/", "#", "data:")), part[:60]


async def test_embed_may_be_framed_by_allowed_origins(client: httpx.AsyncClient) -> None:
    r = await client.get("/embed")
    assert r.status_code == 200
    assert f"frame-ancestors 'self' {CITY}" in r.headers["content-security-policy"]


async def test_widget_script_and_demo(client: httpx.AsyncClient) -> None:
    js = await client.get("/widget.js", headers={"Accept-Encoding": "identity"})
    assert js.status_code == 200
    assert js.headers["content-type"].startswith("text/javascript")
    assert "attachShadow" in js.text
    demo = await client.get("/widget-demo")
    assert demo.status_code == 200 and 'src="/widget.js"' in demo.text


async def test_static_files_are_gzipped_and_confined(client: httpx.AsyncClient) -> None:
    raw = await client.get("/static/ui.js", headers={"Accept-Encoding": "identity"})
    assert raw.status_code == 200 and "content-encoding" not in raw.headers
    packed = await client.get("/static/ui.js", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    assert int(packed.headers["content-length"]) < len(raw.content) / 2
    assert packed.content == raw.content  # httpx decodes the gzip body
    again = await client.get("/static/ui.js", headers={"If-None-Match": raw.headers["etag"]})
    assert again.status_code == 304 and not again.content
    for bad in ("../app.py", "..%2F..%2Fpyproject.toml", "nope.js", "routes/web.py", "%2Fetc%2Fpasswd"):
        r = await client.get(f"/static/{bad}")
        assert r.status_code == 404, bad
        assert r.headers["content-type"] == "application/problem+json"


async def test_web_config_names_municipalities_and_programmes(client: httpx.AsyncClient) -> None:
    r = await client.get("/web/config.json")
    assert r.status_code == 200
    body = r.json()
    assert {"kanagawa"} <= {p["code"] for p in body["programmes"]}
    fujisawa = next(m for m in body["municipalities"] if m["code"] == "14205")
    assert fujisawa["name"] == "藤沢市" and fujisawa["prefecture"] == "神奈川県"
    assert fujisawa["shops"] >= 5
    assert 35.2 < fujisawa["lat"] < 35.5 and 139.3 < fujisawa["lng"] < 139.6
    # Yokohama's shops are handed to HamaHug, not loaded: no Yokohama entry to pick.
    assert not [m for m in body["municipalities"] if m["code"].startswith("141") and m["code"] < "14119"]
    assert body["map"]["gsi_url"] is None


async def test_gsi_tiles_when_configured(db_settings: DbSettings) -> None:
    settings = AppSettings(db=db_settings, web=WebSettings(gsi_tiles=True))
    async for c in _client(settings):
        page = await c.get("/")
        assert "https://cyberjapandata.gsi.go.jp" in page.headers["content-security-policy"]
        config = (await c.get("/web/config.json")).json()
        assert config["map"]["gsi_url"].startswith("https://cyberjapandata.gsi.go.jp/")


def test_gsi_url_must_be_an_https_template() -> None:
    with pytest.raises(ValueError, match="https"):
        WebSettings(gsi_url="http://example.jp/{z}/{x}/{y}.png")
    with pytest.raises(ValueError, match="template"):
        WebSettings(gsi_url="https://example.jp/tiles.png")


async def test_config_says_so_when_the_database_is_down(db_settings: DbSettings) -> None:
    down = DbSettings(url=f"postgresql://postgres@127.0.0.1:1/{db_settings.name}")
    async for c in _client(AppSettings(db=down)):
        r = await c.get("/web/config.json")
        assert r.status_code == 503
        assert r.headers["content-type"] == "application/problem+json"
        page = await c.get("/")  # the page itself still loads and then says the server is unreachable
        assert page.status_code == 200
