"""The family card filter on real PostGIS, with hand-set card columns."""

from __future__ import annotations

from sqlalchemy import Engine, text

from ingest.pipeline import ingest_file
from ingest.programmes import load_programme
from search.queries import ShopQuery, search_params, shop_search
from tests.conftest import SAMPLE


def _names(engine: Engine, query: ShopQuery) -> set[str]:
    with engine.connect() as conn:
        return {str(r.name) for r in conn.execute(shop_search(query), search_params(query))}


def test_card_filter_semantics(engine: Engine) -> None:
    ingest_file(engine, SAMPLE / "sample_aichi.csv", load_programme("aichi"))
    with engine.begin() as conn:
        conn.execute(text("UPDATE shops SET card_required = true"))
        # an 応援 (nursing room) applies to every family
        conn.execute(text("UPDATE shops SET card_required = false WHERE source_id = 'ASMP-007'"))
        # a perk only for multi-child households
        conn.execute(text("UPDATE shops SET multi_child = true WHERE source_id = 'ASMP-008'"))
        # a shop in the nationwide scheme honours any participating card
        conn.execute(text("UPDATE shops SET nationwide = true WHERE source_id = 'ASMP-005'"))
    everything = _names(engine, ShopQuery(programme="aichi", limit=100))
    assert len(everything) == 10
    aichi = _names(engine, ShopQuery(programme="aichi", card="aichi", limit=100))
    assert aichi == everything - {"勝川ドラッグストア"}
    aichi_multi = _names(engine, ShopQuery(programme="aichi", card="aichi", multi_child=True, limit=100))
    assert aichi_multi == everything
    kanagawa = _names(engine, ShopQuery(programme="aichi", card="kanagawa", limit=100))
    assert kanagawa == {"豊橋こども広場 ゆうゆう", "岡崎おもちゃ工房"}
