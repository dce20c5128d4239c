"""The family page in a real browser: search as you type, chips, detail, near me, empty and failed states."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import FUJISAWA, LiveServer, RequestLog, screenshot, watch

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page


ITEMS = ".k-list > li.k-item"


def api_names(server: LiveServer, **params: Any) -> list[str]:
    r = httpx.get(f"{server.base}/v1/shops", params=params, timeout=10)
    r.raise_for_status()
    return [h["name"] for h in r.json()["hits"]]


def listed(page: Page) -> list[str]:
    return [n.strip() for n in page.locator(f"{ITEMS} .k-pick").all_inner_texts()]


def near_fujisawa(server: LiveServer, **params: Any) -> list[str]:
    lat, lng = FUJISAWA
    return api_names(server, lat=lat, lng=lng, radius_m=3000, limit=50, **params)


def test_page_shows_sample_shops_on_map_and_list(live_server: LiveServer, page: Page) -> None:
    page.goto(live_server.base + "/")
    expected = near_fujisawa(live_server)
    assert expected, "the sample data has shops near Fujisawa"
    expect(page.locator(ITEMS)).to_have_count(len(expected))
    assert listed(page) == expected
    expect(page.locator("#k0-count, .k-count").first).to_have_text(re.compile(str(len(expected))))
    # The map draws the same shops (single markers or clusters that add up to them).
    drawn = page.wait_for_function(
        """(n) => {
            const singles = document.querySelectorAll('.leaflet-marker-icon.k-marker').length;
            const clustered = [...document.querySelectorAll('.marker-cluster span')]
                .reduce((sum, el) => sum + Number(el.textContent), 0);
            return singles + clustered === n ? singles + clustered : false;
        }""",
        arg=len(expected),
    )
    assert drawn.json_value() == len(expected)
    assert page.evaluate("document.documentElement.lang") == "ja"
    screenshot(page, "page-mobile")


def test_hiragana_query_finds_katakana_name(live_server: LiveServer, page: Page) -> None:
    page.goto(live_server.base + "/")
    page.wait_for_selector(ITEMS)
    page.get_by_role("searchbox").fill("はまなす")
    expect(page.locator(ITEMS)).to_have_count(1)
    assert "ハマナス" in listed(page)[0]
    expect(page.get_by_role("status").first).to_have_text(re.compile("1"))
    screenshot(page, "page-search-hiragana")


def test_category_chip_changes_the_list(live_server: LiveServer, page: Page) -> None:
    page.goto(live_server.base + "/")
    everything = near_fujisawa(live_server)
    facilities = near_fujisawa(live_server, category="facility")
    assert 0 < len(facilities) < len(everything), "the sample data must make this chip matter"
    expect(page.locator(ITEMS)).to_have_count(len(everything))
    chip = page.locator("button.k-chip[data-code='facility']")
    chip.click()
    expect(chip).to_have_attribute("aria-pressed", "true")
    expect(page.locator(ITEMS)).to_have_count(len(facilities))
    assert listed(page) == facilities
    chip.click()
    expect(page.locator(ITEMS)).to_have_count(len(everything))


def test_amenity_chip_and_my_card(live_server: LiveServer, page: Page) -> None:
    page.goto(live_server.base + "/")
    page.wait_for_selector(ITEMS)
    page.locator("button.k-chip[data-code='nursing_room']").click()
    expected = near_fujisawa(live_server, amenity="nursing_room")
    expect(page.locator(ITEMS)).to_have_count(len(expected))
    assert listed(page) == expected
    page.locator("summary").click()
    page.get_by_label(re.compile("持っているカード")).select_option("aichi")
    # An Aichi card holder near Fujisawa: only shops whose perks apply to that card remain.
    with_card = near_fujisawa(live_server, amenity="nursing_room", card="aichi")
    expect(page.locator(ITEMS)).to_have_count(len(with_card))


def test_choosing_a_shop_shows_its_detail(live_server: LiveServer, page: Page) -> None:
    page.goto(live_server.base + "/")
    page.wait_for_selector(ITEMS)
    first = page.locator(f"{ITEMS} .k-pick").first
    name = first.inner_text().strip()
    first.focus()
    page.keyboard.press("Enter")
    heading = page.locator(".k-detail h2")
    expect(heading).to_have_text(name)
    expect(heading).to_be_focused()
    detail = page.locator(".k-detail")
    expect(detail.locator("a[href^='tel:']")).to_have_count(1)
    expect(detail).to_contain_text("位置の精度")
    expect(detail).to_contain_text("分類とその理由")
    screenshot(page, "page-detail")
    detail.get_by_role("button", name="一覧に戻る").click()
    expect(page.locator(f"{ITEMS} .k-pick").first).to_be_focused()


def test_near_me_lists_nearest_first(
    live_server: LiveServer, new_context: Callable[..., BrowserContext], request_log: RequestLog
) -> None:
    lat, lng = FUJISAWA
    ctx = new_context(geolocation={"latitude": lat, "longitude": lng}, permissions=["geolocation"])
    page = ctx.new_page()
    watch(page, request_log)
    # Open the page centred far away (Kawasaki), then ask for "near me".
    page.goto(live_server.base + "/?lat=35.5313&lng=139.6970")
    page.wait_for_selector(ITEMS)
    assert listed(page) != near_fujisawa(live_server)
    page.get_by_role("button", name="現在地から探す").click()
    expected = near_fujisawa(live_server)
    expect(page.locator(ITEMS)).to_have_count(len(expected))
    assert listed(page) == expected
    metres = [
        float(m.group(1)) * (1000 if m.group(2) == "km" else 1)
        for m in (re.search(r"距離: ([0-9.]+) (k?m)", t) for t in page.locator(ITEMS).all_inner_texts())
        if m
    ]
    assert len(metres) == len(expected) and metres == sorted(metres)
    expect(page.locator(".k-where-status")).to_have_text("現在地から近い順")


def test_empty_radius_offers_a_wider_one(live_server: LiveServer, page: Page) -> None:
    page.goto(live_server.base + "/")
    page.wait_for_selector(ITEMS)
    page.get_by_label("500 m").check()
    page.get_by_role("searchbox").fill("はまなす")  # 1.2 km away: not within 500 m
    widen = page.locator("button[data-action='widen']")
    expect(widen).to_be_visible()
    expect(page.locator(ITEMS)).to_have_count(0)
    expect(widen).to_have_text("範囲を1 kmに広げる")
    widen.click()
    expect(page.get_by_label("1 km")).to_be_checked()
    expect(widen).to_have_text("範囲を3 kmに広げる")  # still nothing within 1 km: offered again
    widen.click()
    expect(page.locator(ITEMS)).to_have_count(1)
    expect(page.get_by_label("3 km")).to_be_checked()


def test_server_unreachable_is_said(live_server: LiveServer, page: Page) -> None:
    page.goto(live_server.base + "/")
    page.wait_for_selector(ITEMS)
    page.route("**/v1/shops?*", lambda route: route.abort("connectionrefused"))
    page.get_by_role("searchbox").fill("パン")
    notice = page.locator(".k-notice[data-kind='error']")
    expect(notice).to_contain_text("サーバーに接続できません")
    page.unroute("**/v1/shops?*")
    notice.get_by_role("button", name="もう一度試す").click()
    expect(notice).to_be_hidden()


def test_english_switch(live_server: LiveServer, page: Page) -> None:
    page.goto(live_server.base + "/")
    page.wait_for_selector(ITEMS)
    page.get_by_role("button", name="Switch to English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Child-rearing passport: find a shop")
    assert page.evaluate("document.documentElement.lang") == "en"
    expect(page.get_by_role("status").first).to_have_text(re.compile("shops found"))
    screenshot(page, "page-english")


def test_wide_screen_layout(live_server: LiveServer, new_context: Callable[..., BrowserContext]) -> None:
    page = new_context(viewport={"width": 1280, "height": 860}).new_page()
    page.goto(live_server.base + "/")
    page.wait_for_selector(".leaflet-marker-icon")
    box = page.locator(".k-map").bounding_box()
    assert box is not None and box["width"] > 600 and box["height"] > 500
    screenshot(page, "page-desktop")


def test_without_location_the_family_picks_a_municipality(
    live_server: LiveServer, new_context: Callable[..., BrowserContext], request_log: RequestLog
) -> None:
    page = new_context(permissions=[]).new_page()  # location not granted
    watch(page, request_log)
    page.goto(live_server.base + "/")
    page.wait_for_selector(ITEMS)
    page.get_by_role("button", name="現在地から探す").click()
    expect(page.locator(".k-where-status")).to_have_text(re.compile("現在地を使えませんでした"))
    picker = page.get_by_label("市区町村から選ぶ")
    expect(picker).to_be_focused()
    option = picker.locator("option", has_text="横須賀市")
    picker.select_option(option.get_attribute("value"))
    expect(page.locator(".k-where-status")).to_have_text(re.compile("横須賀市から近い順"))
    expect(page.locator(ITEMS).first).to_contain_text("横須賀")


def test_slow_answer_is_said_then_results_arrive(live_server: LiveServer, page: Page) -> None:
    page.goto(live_server.base + "/")
    page.wait_for_selector(ITEMS)
    held: list[Any] = []
    # Held, not answered: the server "takes its time". (A lambda: Playwright cannot wrap a builtin.)
    page.route("**/v1/shops?*", lambda route: held.append(route))  # noqa: PLW0108
    page.get_by_role("searchbox").fill("はまなす")
    status = page.get_by_role("status").first
    expect(status).to_have_text(re.compile("時間がかかっています"), timeout=8000)
    assert page.locator(".k-results").get_attribute("aria-busy") == "true"
    assert held, "the search request was made"
    for route in held:
        route.continue_()
    page.unroute("**/v1/shops?*")
    expect(page.locator(ITEMS)).to_have_count(1)
    expect(status).to_have_text(re.compile("1件"))
