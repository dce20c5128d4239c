"""The chain: the gazetteer first, online services only when it could not reach town level."""

from __future__ import annotations

import json

from geo.gazetteer import Gazetteer, Municipality, Town
from geo.geocoding import GazetteerGeocoder, GeocodeChain, address_key
from geo.online import build_online
from geo.settings import GeocoderSettings
from tests.geo.loopback import serve

GSI_TOWN = json.dumps(
    [{"geometry": {"coordinates": [139.49, 35.34]}, "properties": {"title": "神奈川県藤沢市辻堂"}}],
    ensure_ascii=False,
)


def _gazetteer() -> Gazetteer:
    g = Gazetteer()
    g.add_municipalities([Municipality("14205", 14, "藤沢市", 35.3387, 139.4873)])
    g.add_towns([Town("14205", "南藤沢", 35.337, 139.487)])
    return g


def test_town_from_the_gazetteer_needs_no_online_call() -> None:
    with serve(lambda _p, _q, _n: (200, GSI_TOWN)) as server:
        online = build_online(GeocoderSettings(online="gsi", gsi_url=f"{server.url}/g", min_delay_s=0))
        chain = GeocodeChain([GazetteerGeocoder(_gazetteer()), *online])
        result = chain.geocode("神奈川県藤沢市南藤沢2-1")
    assert result is not None and (result.precision, result.geocoder) == ("town", "gazetteer")
    assert server.seen == []


def test_municipality_only_asks_online_and_keeps_the_better_answer() -> None:
    with serve(lambda _p, _q, _n: (200, GSI_TOWN)) as server:
        online = build_online(GeocoderSettings(online="gsi", gsi_url=f"{server.url}/g", min_delay_s=0))
        chain = GeocodeChain([GazetteerGeocoder(_gazetteer()), *online])
        result = chain.geocode("神奈川県藤沢市辻堂1-1")
    assert result is not None and (result.precision, result.geocoder) == ("town", "gsi")
    assert chain.calls == {"gazetteer": 1, "gsi": 1}


def test_municipality_only_is_kept_when_nothing_better_exists() -> None:
    with serve(lambda _p, _q, _n: (200, "[]")):
        chain = GeocodeChain([GazetteerGeocoder(_gazetteer())])
        result = chain.geocode("神奈川県藤沢市辻堂1-1")
    assert result is not None and result.precision == "municipality"
    assert (result.lat, result.lng) == (35.3387, 139.4873)


def test_cache_key_is_the_normalised_folded_address() -> None:
    assert address_key("神奈川県茅ヶ崎市赤松町１－１") == address_key("神奈川県茅ケ崎市赤松町1-1")
    assert address_key("横浜市中区山下町二番") == address_key("横浜市中区山下町2番")
