"""Phone numbers, postal codes, URLs, names and missing address context."""

from __future__ import annotations

import pytest

from ingest.models import NormalizedShop, RawRow
from ingest.normalize import AddressDefaults, fill_address, normalize, phone, phone_repaired, postal_code, url


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0767-22-9000", "0767-22-9000"),
        ("(076)222-1111", "076-222-1111"),
        ("０７６－２２２－１１１１", "076-222-1111"),
        ("+81-76-222-1111", "076-222-1111"),
        ("TEL:076-222-1111 / 076-111-2222", "076-222-1111"),
        ("0120ー123ー456", "0120-123-456"),
        ("0762221111", "0762221111"),
        ("762229000", None),
        ("なし", None),
    ],
)
def test_phone(value: str, expected: str | None) -> None:
    assert phone(value) == expected


def test_phone_that_lost_its_leading_zero_is_restored() -> None:
    assert phone_repaired("762229000") == "0762229000"
    assert phone_repaired("12") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("〒920-0054", "920-0054"),
        ("９２０－００５４", "920-0054"),
        ("9200054", "920-0054"),
        ("92-0054", None),
    ],
)
def test_postal_code(value: str, expected: str | None) -> None:
    assert postal_code(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("www.Example.jp", "http://www.example.jp/"),
        ("HTTP://Example.JP/a?b=1", "http://example.jp/a?b=1"),
        ("http://www.spacelan.ne.jp/‾kodomo/", "http://www.spacelan.ne.jp/~kodomo/"),
        ("http://ふるーつ.com/", "http://ふるーつ.com/"),
        ("http://localhost", None),
        ("mailto:shop@example.jp", None),
        ("http://exa mple.jp", None),
    ],
)
def test_url(value: str, expected: str | None) -> None:
    assert url(value) == expected


def test_fill_address_adds_only_what_is_missing() -> None:
    yokosuka = AddressDefaults("神奈川県", "横須賀市")
    assert fill_address("公郷町6-7-1", yokosuka) == ("神奈川県横須賀市公郷町6-7-1", True)
    assert fill_address("横須賀市小川町11", yokosuka) == ("神奈川県横須賀市小川町11", True)
    assert fill_address("神奈川県横須賀市小川町11", yokosuka) == ("神奈川県横須賀市小川町11", False)
    assert fill_address("東京都江東区1", AddressDefaults("千葉県")) == ("東京都江東区1", False)


def _raw(**fields: str) -> RawRow:
    return RawRow(line=7, source="t", fields=fields)


def test_names_are_nfkc_and_trimmed_and_long_vowels_kept() -> None:
    shop = normalize(_raw(name=" ｽｼﾛｰ　金沢店 ", address="石川県金沢市1-1", lat="36.5", lng="136.6"))
    assert isinstance(shop, NormalizedShop)
    assert shop.name == "スシロー 金沢店"


def test_bad_contact_values_are_flagged_not_guessed() -> None:
    shop = normalize(
        _raw(name="店", address="石川県金沢市1", phone="762229000", postal_code="12", url="ftp://x.jp",
             closed_days="2014/01/01")
    )  # fmt: skip
    assert isinstance(shop, NormalizedShop)
    assert shop.phone == "0762229000" and shop.postal_code is None and shop.url is None
    assert set(shop.flags) >= {
        "phone_leading_zero_restored", "bad_postal_code", "bad_url", "closed_days_spreadsheet_date",
    }  # fmt: skip


def test_lifecycle_dates_are_parsed_or_rejected() -> None:
    shop = normalize(
        _raw(name="店", address="石川県金沢市1", withdrawn_on="2026/04/30", notified_on="2026-04-01")
    )
    assert isinstance(shop, NormalizedShop)
    assert str(shop.withdrawn_on) == "2026-04-30"
    bad = normalize(_raw(name="店", address="石川県金沢市1", closed_on="someday"))
    assert not isinstance(bad, NormalizedShop)
    assert bad.field == "closed_on"
