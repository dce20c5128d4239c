"""The widget: one script tag on a host page renders the finder in a Shadow DOM, styles kept apart."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer, RequestLog, screenshot, watch
from tests.conftest import free_port

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page


ITEMS = ".k-list > li.k-item"


def test_demo_host_page_renders_widget(live_server: LiveServer, page: Page) -> None:
    page.goto(live_server.base + "/widget-demo")
    expect(page.locator(ITEMS).first).to_be_visible()  # Playwright's CSS pierces open shadow roots
    assert page.evaluate("document.querySelector('.kosodate-widget').shadowRoot !== null")
    assert page.locator(ITEMS).count() > 0
    page.wait_for_selector(".leaflet-marker-icon")
    # The host's loud stylesheet (li/p/button magenta 30px, .k-item hidden) does not reach inside...
    colour = page.locator(f"{ITEMS} .k-meta").first.evaluate("e => getComputedStyle(e).color")
    assert colour != "rgb(255, 0, 255)"
    # ...and ours does not reach out: the host's own text keeps the host's font.
    font = page.locator(".host-text").first.evaluate("e => getComputedStyle(e).fontFamily")
    assert "Georgia" in font
    screenshot(page, "widget-demo")


def test_widget_choosing_a_shop_shows_detail(live_server: LiveServer, page: Page) -> None:
    page.goto(live_server.base + "/widget-demo")
    first = page.locator(f"{ITEMS} .k-pick").first
    name = first.inner_text().strip()
    first.click()
    expect(page.locator(".k-detail h2")).to_have_text(name)


def test_iframe_embed(live_server: LiveServer, page: Page) -> None:
    page.goto(live_server.base + "/embed?programme=aichi&category=facility&lang=en")
    expect(page.locator(ITEMS).first).to_be_visible()
    tags = page.locator(ITEMS).all_inner_texts()
    assert tags and all("Facility" in t for t in tags)


@pytest.fixture
def host_site(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Another origin (its own loopback port) serving a city site's page with the script tag."""
    port = free_port()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()

    def page_with(api_base: str, head: str = "", body: str | None = None) -> str:
        (tmp_path / "index.html").write_text(
            "<!doctype html><html><head><meta charset=utf-8><title>city</title>"
            f"<style>li{{color:rgb(255,0,255)}} .k-item{{display:none}}</style>{head}</head><body>"
            "<h1>City site</h1>"
            + (
                body
                if body is not None
                else f'<script src="{api_base}/widget.js" data-programme="kanagawa" data-lat="35.3387" '
                'data-lng="139.4871" data-zoom="13" data-lang="en"></script>'
            )
            + "</body></html>",
            encoding="utf-8",
        )
        return f"http://127.0.0.1:{port}/index.html"

    try:
        yield page_with
    finally:
        httpd.shutdown()
        thread.join(5)


def test_widget_on_another_origin_uses_cors_allowlist(
    make_server: Callable[..., LiveServer],
    host_site: Callable[..., str],
    new_context: Callable[..., BrowserContext],
    request_log: RequestLog,
) -> None:
    url = host_site("PLACEHOLDER")
    origin = url.rsplit("/", 1)[0].removesuffix("/index.html")
    origin = "/".join(url.split("/")[:3])
    allowed = make_server(cors_origins=[origin])
    page = new_context().new_page()
    watch(page, request_log)
    page.goto(host_site(allowed.base))
    expect(page.locator(ITEMS).first).to_be_visible()
    screenshot(page, "widget-cross-origin")

    refused = make_server(cors_origins=[])
    page.goto(host_site(refused.base))
    expect(page.locator(".k-notice[data-kind='error']")).to_contain_text("Cannot reach the server")


def test_host_page_keeps_its_own_leaflet(
    make_server: Callable[..., LiveServer],
    host_site: Callable[..., str],
    new_context: Callable[..., BrowserContext],
    request_log: RequestLog,
) -> None:
    origin = "/".join(host_site("x").split("/")[:3])
    api = make_server(cors_origins=[origin])
    # The city site already uses Leaflet (here a copy it loads itself before the widget tag).
    own = f'<script src="{api.base}/static/vendor/leaflet.js"></script>'
    page = new_context().new_page()
    watch(page, request_log)
    page.goto(host_site(api.base, head=own))
    expect(page.locator(ITEMS).first).to_be_visible()
    page.wait_for_selector(".leaflet-marker-icon.k-marker")
    # The widget used the site's Leaflet as it was: nothing loaded over it, no plugin added to it.
    assert page.evaluate("typeof window.L.MarkerClusterGroup") == "undefined"
    loaded = [u for u in request_log.urls if u.endswith("/static/vendor/leaflet.js")]
    assert len(loaded) == 1


def test_iframe_on_an_allowed_site_only(
    make_server: Callable[..., LiveServer],
    host_site: Callable[..., str],
    new_context: Callable[..., BrowserContext],
    request_log: RequestLog,
) -> None:
    origin = "/".join(host_site("x").split("/")[:3])
    allowed = make_server(cors_origins=[origin])
    frame = (
        '<iframe src="{}/embed?programme=kanagawa&lat=35.3387&lng=139.4871&lang=ja" title="shops"></iframe>'
    )
    page = new_context().new_page()
    watch(page, request_log)
    page.goto(host_site(allowed.base, body=frame.format(allowed.base)))
    inner = page.frame_locator("iframe")
    expect(inner.locator(ITEMS).first).to_be_visible()

    refused = make_server(cors_origins=[])  # this site is not listed: frame-ancestors refuses it
    page.goto(host_site(refused.base, body=frame.format(refused.base)))
    page.wait_for_timeout(1500)
    assert page.frame_locator("iframe").locator(ITEMS).count() == 0
    refusals = [e for e in request_log.errors if "frame-ancestors" in e]
    assert refusals, "the browser should report the refused framing"
    request_log.errors[:] = [e for e in request_log.errors if e not in refusals]  # expected, not a fault
