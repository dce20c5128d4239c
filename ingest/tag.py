"""The tag stage: perk categories, amenities (each with its reason) and cards.

The lexicon here is small and literal; every tag records the flag or the words that produced it.
"""

from __future__ import annotations

from datetime import date

from ingest.jurisdiction import Jurisdiction
from ingest.models import GeocodedShop, Tag, TaggedShop
from ingest.programmes import Programme

AMENITY_CATEGORY = {
    "hot_water": "consideration",
    "microwave": "consideration",
    "wet_tissues": "consideration",
    "stroller_lending": "consideration",
    "kids_menu": "consideration",
    "luggage": "consideration",
    "priority": "consideration",
    "nursing_room": "facility",
    "diaper_changing": "facility",
    "kids_toilet": "facility",
    "kids_corner": "facility",
    "zashiki": "facility",
    "private_room": "facility",
    "baby_station": "facility",
}
AMENITY_WORDS: dict[str, tuple[str, ...]] = {
    "nursing_room": ("授乳",),
    "diaper_changing": ("おむつ", "オムツ", "おしめ"),
    "hot_water": ("お湯", "おゆ"),
    "kids_corner": ("キッズコーナー", "キッズスペース", "プレイコーナー"),
    "kids_toilet": ("子ども用トイレ", "子供用トイレ", "キッズトイレ"),
    "stroller_lending": ("ベビーカー貸", "ベビーカーの貸", "ベビーカーを貸"),
    "luggage": ("荷物",),
    "priority": ("優先",),
    "kids_menu": ("お子様メニュー", "キッズメニュー", "お子さまメニュー"),
}
DISCOUNT_WORDS = (
    "割引", "%off", "%オフ", "%引", "円引", "円off", "オフ", "プレゼント", "進呈", "ポイント", "無料",
    "サービス", "景品", "おまけ", "粗品", "値引",
)  # fmt: skip


def _flag_true(value: str) -> bool:
    return value.strip().lower() in {"true", "1", "yes", "y", "○", "〇", "◯", "有", "あり", "可", "t"}


def _tags(shop: GeocodedShop, flags: dict[str, str]) -> list[Tag]:
    s = shop.shop
    tags: list[Tag] = [Tag("category", c, "declared in the file") for c in s.declared_categories]
    tags += [Tag("amenity", a, "declared in the file") for a in s.declared_amenities]
    tags += [Tag("amenity", a, f"flag {a}") for a, v in flags.items() if _flag_true(v)]
    text = (s.perk_text or "").lower()
    if text:
        for amenity, words in AMENITY_WORDS.items():
            hit = next((w for w in words if w.lower() in text), None)
            if hit:
                tags.append(Tag("amenity", amenity, f"perk text: {hit}"))
        hit = next((w for w in DISCOUNT_WORDS if w.lower() in text), None)
        if hit:
            tags.append(Tag("category", "discount", f"perk text: {hit}"))
    for tag in list(tags):
        if tag.kind == "amenity" and tag.value in AMENITY_CATEGORY:
            tags.append(Tag("category", AMENITY_CATEGORY[tag.value], f"amenity {tag.value}"))
    # one reason per tag: the first one found
    seen: dict[tuple[str, str], Tag] = {}
    for tag in tags:
        seen.setdefault((tag.kind, tag.value), tag)
    return list(seen.values())


def _first_march_31_after(day: date) -> date:
    end = date(day.year, 3, 31)
    return end if end > day else date(day.year + 1, 3, 31)


def tag(
    shop: GeocodedShop,
    programme: Programme,
    programme_id: int,
    flags: dict[str, str],
    jurisdiction: Jurisdiction,
    today: date | None = None,
) -> TaggedShop:
    """Perk categories, amenities (each with its reason) and cards for a shop already placed."""
    today = today or date.today()
    tags = _tags(shop, flags)
    categories = tuple(sorted({t.value for t in tags if t.kind == "category"}))
    amenities = tuple(sorted({t.value for t in tags if t.kind == "amenity"}))
    cards = tuple(dict.fromkeys([c for c in [programme.card, *programme.raw.get("accepted_cards", [])] if c]))
    registered = shop.shop.registered_on
    expires = None
    if registered and programme.lifecycle.get("expiry") == "first_march_31_after_registration":
        expires = _first_march_31_after(registered)
        # Registrations renew a year at a time unless the shop withdraws: report the current term.
        step = int(programme.lifecycle.get("auto_extend_years", 0))
        while step and expires < today:
            expires = date(expires.year + step, 3, 31)
    return TaggedShop(
        geocoded=shop,
        programme_id=programme_id,
        categories=categories,
        amenities=amenities,
        tags=tuple(tags),
        cards=cards,
        card_required=None,
        multi_child=False,
        municipality_code=jurisdiction.municipality_code,
        lg_code=jurisdiction.lg_code,
        expires_on=expires,
        handoff=jurisdiction.handoff,
    )
