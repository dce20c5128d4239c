"""Browser tests: Debian's chromium driven by Playwright, against a real uvicorn server and PostGIS.

Never a downloaded browser (`playwright install` is not used): the executable is /usr/bin/chromium.
Every request the page makes is logged; anything not addressed to 127.0.0.1 is blocked and fails the test.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
import uvicorn
from sqlalchemy import create_engine

from api import create_app
from api.settings import ApiSettings, AppSettings
from ingest.pipeline import ingest_file
from ingest.programmes import load_programme
from search.settings import DbSettings
from tests.browser.chromium import ARGS, CHROMIUM
from tests.conftest import PROJECT, SAMPLE, free_port

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Route

ARTIFACTS = PROJECT / "test-artifacts"
VENDOR = PROJECT / "api" / "static" / "vendor" / "leaflet.js"
FUJISAWA = (35.3387, 139.4871)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.parent == Path(__file__).parent:
            item.add_marker(pytest.mark.browser)


@dataclass
class LiveServer:
    base: str
    db: DbSettings


def load_sample(db: DbSettings) -> None:
    engine = create_engine(db.sqlalchemy_url())
    try:
        ingest_file(engine, SAMPLE / "sample_kanagawa.csv", load_programme("kanagawa"))
        ingest_file(engine, SAMPLE / "sample_aichi.csv", load_programme("aichi"))
    finally:
        engine.dispose()


def serve(app: Any) -> Generator[str, None, None]:
    """Run an ASGI app with uvicorn on a free loopback port in a thread; yield its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def make_server(db_settings: DbSettings) -> Iterator[Callable[..., LiveServer]]:
    """Start the API (with the sample data loaded) with the given ApiSettings overrides."""
    load_sample(db_settings)
    running: list[Generator[str, None, None]] = []

    def start(**api: Any) -> LiveServer:
        app = create_app(AppSettings(db=db_settings, api=ApiSettings(**api)))
        gen = serve(app)
        running.append(gen)
        return LiveServer(next(gen), db_settings)

    yield start
    for gen in running:
        gen.close()


@pytest.fixture
def live_server(make_server: Callable[..., LiveServer]) -> LiveServer:
    return make_server()


@pytest.fixture(scope="module")  # not session: Playwright's loop must be gone before other async tests
def browser() -> Iterator[Browser]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright (dev dependency) is not installed"
    )
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    if not VENDOR.exists():
        pytest.fail("the map library is not vendored: run `make vendor` (make test does)")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@dataclass
class RequestLog:
    urls: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def request_log() -> RequestLog:
    return RequestLog()


def _guard(log: RequestLog) -> Callable[[Route], None]:
    def handle(route: Route) -> None:
        url = route.request.url
        log.urls.append(url)
        host = urlsplit(url).hostname
        if url.startswith("data:") or host == "127.0.0.1":
            route.continue_()
        else:
            log.blocked.append(url)
            route.abort()

    return handle


@pytest.fixture
def new_context(browser: Browser, request_log: RequestLog) -> Iterator[Callable[..., BrowserContext]]:
    contexts: list[BrowserContext] = []

    def make(**kwargs: Any) -> BrowserContext:
        kwargs.setdefault("viewport", {"width": 412, "height": 900})
        kwargs.setdefault("locale", "ja-JP")
        ctx = browser.new_context(**kwargs)
        ctx.route("**/*", _guard(request_log))
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        ctx.close()
    assert request_log.urls, "the test made no request at all"
    assert not request_log.blocked, f"requests left 127.0.0.1: {request_log.blocked}"
    assert not request_log.errors, f"errors in the page: {request_log.errors}"


@pytest.fixture
def page(new_context: Callable[..., BrowserContext], request_log: RequestLog) -> Page:
    pg = new_context().new_page()
    watch(pg, request_log)
    return pg


def watch(pg: Page, log: RequestLog) -> None:
    """Script errors and CSP violations fail the test (collected, asserted at teardown)."""
    pg.on("pageerror", lambda exc: log.errors.append(f"pageerror: {exc}"))

    def console(msg: Any) -> None:
        text = msg.text
        if msg.type == "error" and ("Content Security Policy" in text or "Refused" in text):
            log.errors.append(f"console: {text}")

    pg.on("console", console)


def screenshot(pg: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    pg.wait_for_timeout(500)  # let the map's zoom animation finish, so the picture shows where it ends
    pg.screenshot(path=str(path), full_page=True)
    return path
