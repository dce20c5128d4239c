"""Online geocoders (GSI, Nominatim) through geopy, against a loopback server the test starts."""

from __future__ import annotations

import json
import time

import pytest
from pydantic import ValidationError

from geo.online import build_online, nominatim_precision, title_precision
from geo.settings import GeocoderSettings
from tests.geo.loopback import serve

GSI_HIT = json.dumps(
    [
        {
            "geometry": {"coordinates": [139.4875, 35.3387], "type": "Point"},
            "type": "Feature",
            "properties": {"addressCode": "", "title": "神奈川県藤沢市南藤沢"},
        }
    ],
    ensure_ascii=False,
)


def _settings(url: str, max_retries: int = 2) -> GeocoderSettings:
    return GeocoderSettings(
        online="gsi",
        gsi_url=f"{url}/address-search/AddressSearch",
        min_delay_s=0.0,
        backoff_s=0.01,
        max_retries=max_retries,
    )


def test_gsi_result_carries_precision_geocoder_and_time() -> None:
    with serve(lambda _path, _q, _n: (200, GSI_HIT)) as server:
        [gsi] = build_online(_settings(server.url))
        result = gsi.geocode("神奈川県藤沢市南藤沢2-1")
    assert result is not None
    assert (result.lat, result.lng) == (35.3387, 139.4875)
    assert (result.precision, result.geocoder) == ("town", "gsi")  # GSI matched the town, not the number
    assert result.geocoded_at.tzinfo is not None
    [seen] = server.seen
    assert seen.path == "/address-search/AddressSearch"
    assert seen.query["q"] == ["神奈川県藤沢市南藤沢2-1"]
    assert seen.headers["User-Agent"].startswith("kosodate/")


def test_retries_on_unavailable_then_succeeds() -> None:
    def respond(path: str, q: object, n: int) -> tuple[int, str]:
        return (503, "{}") if n < 2 else (200, GSI_HIT)

    with serve(respond) as server:
        [gsi] = build_online(_settings(server.url, max_retries=2))
        result = gsi.geocode("神奈川県藤沢市南藤沢2-1")
    assert result is not None and len(server.seen) == 3


def test_retries_on_rate_limit_but_gives_up_after_max_retries() -> None:
    with serve(lambda _path, _q, _n: (429, "{}")) as server:
        [gsi] = build_online(_settings(server.url, max_retries=1))
        assert gsi.geocode("どこか") is None
    assert len(server.seen) == 2
    assert "RateLimited" in gsi.errors[-1]


def test_bad_query_is_not_retried() -> None:
    with serve(lambda _path, _q, _n: (400, '{"error": "bad query"}')) as server:
        [gsi] = build_online(_settings(server.url, max_retries=3))
        assert gsi.geocode("") is None
    assert len(server.seen) == 1
    assert "QueryError" in gsi.errors[-1]


def test_no_match_is_none_without_retry() -> None:
    with serve(lambda _path, _q, _n: (200, "[]")) as server:
        [gsi] = build_online(_settings(server.url))
        assert gsi.geocode("存在しない住所") is None
    assert len(server.seen) == 1


def test_requests_are_spaced_by_the_rate_limit() -> None:
    with serve(lambda _path, _q, _n: (200, GSI_HIT)) as server:
        settings = GeocoderSettings(online="gsi", gsi_url=f"{server.url}/s", min_delay_s=0.2)
        [gsi] = build_online(settings)
        start = time.monotonic()
        for _ in range(3):
            gsi.geocode("神奈川県藤沢市南藤沢")
        elapsed = time.monotonic() - start
    assert len(server.seen) == 3
    assert elapsed >= 0.4  # three requests, two waits of at least 0.2 s


def test_rate_limit_and_backoff_with_a_fake_clock() -> None:
    """Deterministic: the limiter waits what remains of the delay; retries back off exponentially."""
    from geopy.exc import GeocoderUnavailable  # noqa: PLC0415

    from geo.online import OnlineGeocoder  # noqa: PLC0415

    clock = {"t": 100.0}
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(round(seconds, 3))
        clock["t"] += seconds

    class Flaky:
        calls = 0

        def geocode(self, query: str, exactly_one: bool = True) -> None:
            assert query and exactly_one
            self.calls += 1
            if self.calls == 2:
                raise GeocoderUnavailable("down")

    service = Flaky()
    online = OnlineGeocoder(
        "x", service, lambda _loc: "town", min_delay_s=1.0, max_retries=2, backoff_s=0.5,
        clock=lambda: clock["t"], sleep=sleep,
    )  # fmt: skip
    assert online.geocode("a") is None  # no match, no error
    clock["t"] += 0.25
    assert online.geocode("b") is None  # unavailable once, then answered
    assert service.calls == 3
    # 0.75 s left of the delay; 0.5 s back-off; 0.5 s more so requests stay 1 s apart
    assert sleeps == [0.75, 0.5, 0.5]


def test_nominatim_through_geopy_on_loopback() -> None:
    body = json.dumps(
        [{"lat": "35.4437", "lon": "139.6380", "display_name": "関内, 中区, 横浜市", "addresstype": "suburb"}]
    )
    with serve(lambda _path, _q, _n: (200, body)) as server:
        settings = GeocoderSettings(
            online="nominatim", nominatim_domain=server.url.removeprefix("http://"), nominatim_scheme="http",
            min_delay_s=0.0,
        )  # fmt: skip
        [nominatim] = build_online(settings)
        result = nominatim.geocode("横浜市中区港町1-1")
    assert result is not None
    assert (result.lat, result.precision, result.geocoder) == (35.4437, "town", "nominatim")
    [seen] = server.seen
    assert seen.path == "/search"
    assert seen.query["countrycodes"] == ["jp"]
    assert seen.headers["User-Agent"].startswith("kosodate/")


def test_precision_is_never_finer_than_the_match() -> None:
    assert title_precision("神奈川県藤沢市") == "municipality"
    assert title_precision("神奈川県藤沢市南藤沢") == "town"
    assert title_precision("東京都新宿区西新宿二丁目8") == "block"
    assert title_precision("神奈川県") == "prefecture"
    assert nominatim_precision({"addresstype": "city"}) == "municipality"
    assert nominatim_precision({"addresstype": "something_new"}) == "municipality"
    assert nominatim_precision({"addresstype": "building"}) == "building"


def test_online_is_off_by_default_and_settings_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KOSODATE_GEOCODER_ONLINE", raising=False)
    assert build_online(GeocoderSettings()) == []
    monkeypatch.setenv("KOSODATE_GEOCODER_ONLINE", "gsi,nominatim")
    assert [g.name for g in build_online(GeocoderSettings())] == ["gsi", "nominatim"]
    with pytest.raises(ValidationError, match="unknown online geocoder"):
        GeocoderSettings(online="google")
    with pytest.raises(ValidationError, match="real user agent"):
        GeocoderSettings(user_agent="geopy/2.4")
