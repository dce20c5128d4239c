"""Perk text reading: words and variants, negation, limitations, 特典/応援, multi-child, nationwide."""

from __future__ import annotations

import pytest

from ingest.card_rules import decide_cards, segments
from ingest.perks import PerkReader, make_analyzer
from ingest.programmes import load_programme, parse_programme
from ingest.tag import derive, programme_reader
from search.taxonomy import TaxonomyError, builtin_taxonomy, extended_taxonomy
from tests.conftest import shared_file
from tests.ingest.labels.labels import load_labels


@pytest.fixture(scope="module")
def reader() -> PerkReader:
    return PerkReader(builtin_taxonomy(), make_analyzer("sudachi"))


def _kv(reader: PerkReader, text: str, flags: dict[str, str] | None = None) -> set[tuple[str, str]]:
    return {(t.kind, t.value) for t in derive(reader, text, flags or {})}


def test_words_and_spelling_variants(reader: PerkReader) -> None:
    got = _kv(reader, "オムツ替えシートと、こども用トイレがあります。ミルク用のお湯を提供します")
    assert {("amenity", "diaper_changing"), ("amenity", "kids_toilet"), ("amenity", "hot_water")} <= got
    assert {("category", "facility"), ("category", "consideration")} <= got
    assert ("category", "discount") not in got


def test_normalised_forms_match_what_the_surface_pass_misses(reader: PerkReader) -> None:
    # the word list says 子供用椅子 only; Sudachi normalises こども->子供 and いす->椅子
    new = {"seat": {"category": "facility", "ja": "いす", "en": "Seat", "words": ["子供用椅子"]}}
    taxonomy = extended_taxonomy({"amenities": new})
    morph = PerkReader(taxonomy, make_analyzer("sudachi"))
    lexicon = PerkReader(taxonomy, make_analyzer("lexicon"))
    assert ("amenity", "seat") in _kv(morph, "こども用いすがあります")
    assert ("amenity", "seat") not in _kv(lexicon, "こども用いすがあります")


@pytest.mark.parametrize(
    "text",
    [
        "授乳室はありません。",
        "授乳室なし",
        "当店には授乳室はございませんが、お気軽にどうぞ",
        "授乳スペースは無いです",
    ],
)
def test_negation_removes_the_amenity_and_says_why(reader: PerkReader, text: str) -> None:
    tags = derive(reader, text, {})
    assert ("amenity", "nursing_room") not in {(t.kind, t.value) for t in tags}
    note = next(t for t in tags if t.kind == "negated")
    assert note.value == "nursing_room" and "授乳" in note.why


def test_negation_is_scoped_to_its_own_clause(reader: PerkReader) -> None:
    got = _kv(reader, "授乳室はありませんが、おむつ替え台はあります")
    assert ("amenity", "diaper_changing") in got and ("amenity", "nursing_room") not in got
    # a negative about something else does not cancel the discount
    assert ("category", "discount") in _kv(reader, "全品10%割引(他の割引券との併用はできません)")
    assert ("category", "discount") not in _kv(reader, "割引はありません")


def test_limitation_is_kept_in_the_reason(reader: PerkReader) -> None:
    tags = derive(reader, "キッズスペースは平日のみご利用いただけます", {})
    why = next(t.why for t in tags if t.value == "kids_corner")
    assert "キッズスペース" in why and "のみ" in why


def test_context_words_stop_false_matches(reader: PerkReader) -> None:
    assert ("amenity", "kids_corner") not in _kv(reader, "お子様向けの商品を集めたキッズコーナーも充実")
    assert ("amenity", "kids_chair") not in _kv(reader, "チャイルドシート、ベビーシート無料貸出")
    assert ("category", "consideration") in _kv(reader, "チャイルドシート、ベビーシート無料貸出")


def test_structured_flags_win_over_text(reader: PerkReader) -> None:
    tags = derive(reader, "授乳室あり", {"nursing_room": "false", "kids_corner": "true"})
    got = {(t.kind, t.value): t.why for t in tags}
    assert ("amenity", "nursing_room") not in got
    assert got[("amenity", "kids_corner")] == "flag kids_corner"
    assert got[("category", "facility")] == "amenity kids_corner"


def test_every_tag_has_a_reason(reader: PerkReader) -> None:
    for tag in derive(reader, "【特典】ドリンク10%割引【応援】授乳室あり", {}):
        assert tag.why.strip()
    why = {t.value: t.why for t in derive(reader, "【特典】ドリンク10%割引【応援】授乳室あり", {})}
    assert why["discount"].startswith("【特典】") and "10%割引" in why["discount"]
    assert why["nursing_room"].startswith("【応援】")


def test_tokuten_and_ouen() -> None:
    aichi = load_programme("aichi")
    assert [s.kind for s in segments("【特典】ドリンク10%割引【応援】授乳室あり")] == ["特典", "応援"]
    only_tokuten = decide_cards(aichi, "【特典】パン1個プレゼント", {}, [])
    assert only_tokuten.card_required is True and not only_tokuten.multi_child
    assert only_tokuten.cards == ("aichi", "nagoya", "gifu", "mie")
    ouen = decide_cards(aichi, "【応援】授乳室とミルク用のお湯を提供", {}, [])
    assert ouen.card_required is False
    assert any(t.value == "no_card_needed" and "応援" in t.why for t in ouen.tags)
    assert decide_cards(aichi, "カードの提示は不要です。おむつ替え台あり", {}, []).card_required is False
    assert decide_cards(aichi, "", {}, []).card_required is None


def test_multi_child_from_text_and_from_ishikawa_columns() -> None:
    aichi = load_programme("aichi")
    multi = decide_cards(aichi, "【特典】多子世帯向けはぐみんカード提示で紙おむつ10%割引", {}, [])
    assert multi.multi_child and multi.card_required
    # one perk for every card holder and one for multi-child households: not multi-child only
    both = decide_cards(aichi, "【特典】全品5%割引【特典】多子世帯は10%割引", {}, [])
    assert not both.multi_child
    ishikawa = load_programme("ishikawa")
    only3 = {"perk_all_families": "", "perk_multi_child": "全商品5%引き"}
    assert decide_cards(ishikawa, "全商品5%引き", only3, []).multi_child
    both_cols = {"perk_all_families": "全商品3%引き", "perk_multi_child": "全商品5%引き"}
    # the 2-children text mentions 3子 but the columns decide
    assert not decide_cards(ishikawa, "3子以上世帯と同様に割引", both_cols, []).multi_child


def test_nationwide_from_column_config_or_text() -> None:
    aichi = load_programme("aichi")
    assert decide_cards(aichi, "【特典】10%割引", {"nationwide": "true"}, []).nationwide
    assert not decide_cards(aichi, "【特典】10%割引(全国共通展開)", {"nationwide": "false"}, []).nationwide
    assert decide_cards(aichi, "【特典】10%割引(全国共通展開参加)", {}, []).nationwide
    everywhere = parse_programme({**aichi.raw, "nationwide": True}, "test")
    assert decide_cards(everywhere, "【特典】10%割引", {}, []).nationwide


def test_taxonomy_extends_by_programme_configuration() -> None:
    raw = {**load_programme("kanagawa").raw, "code": "kanagawa_ext"}
    bath = {"category": "facility", "ja": "ベビーバス", "en": "Baby bath", "words": ["沐浴"]}
    raw["taxonomy"] = {"amenities": {"baby_bath": bath}}
    reader = programme_reader(parse_programme(raw, "test"))
    assert ("amenity", "baby_bath") in _kv(reader, "沐浴スペースあり")
    with pytest.raises(TaxonomyError):
        extended_taxonomy({"amenities": {"bad": {"category": "nope"}}})
    with pytest.raises(TaxonomyError):
        extended_taxonomy({"amenities": {"new_one": {"category": "facility", "words": ["x"]}}})


def test_every_amenity_is_labelled_in_both_languages() -> None:
    taxonomy = builtin_taxonomy()
    for key in ("nursing_room", "diaper_changing", "hot_water", "microwave", "kids_toilet", "kids_corner",
                "stroller_lending", "kids_menu", "no_smoking", "private_room", "zashiki", "baby_station",
                "wet_tissues", "allergy_support", "parking", "luggage", "priority"):  # fmt: skip
        amenity = taxonomy.amenities[key]
        assert amenity.ja and amenity.en and amenity.category in taxonomy.categories


def test_hand_labels_category_quality_floor(reader: PerkReader) -> None:
    """The hand-labelled held-out rows: each category at least 0.95 precision and recall."""
    tp: dict[str, int] = {}
    fp: dict[str, int] = {}
    fn: dict[str, int] = {}
    shops_dir = shared_file("shops", "matsudo_mirai_card_2017.csv").parent
    rows = [r for r in load_labels(shops_dir) if r["split"] != "tune"]
    assert len(rows) >= 150
    for r in rows:
        want = r["categories"]
        assert isinstance(want, set)
        got = {v for k, v in _kv(reader, str(r["text"])) if k == "category"}
        for c in got | want:
            bucket = tp if c in got and c in want else fp if c in got else fn
            bucket[c] = bucket.get(c, 0) + 1
    for c in ("discount", "facility"):
        assert tp[c] / (tp[c] + fp.get(c, 0)) >= 0.95, c
        assert tp[c] / (tp[c] + fn.get(c, 0)) >= 0.95, c
