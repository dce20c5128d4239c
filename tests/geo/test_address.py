import pytest

from geo.address import split_address


@pytest.mark.parametrize(
    ("text", "pref", "municipality", "town", "rest"),
    [
        ("神奈川県藤沢市南藤沢2-1", "神奈川県", "藤沢市", "南藤沢", "2-1"),
        ("神奈川県横浜市中区港町1-1", "神奈川県", "横浜市中区", "港町", "1-1"),
        ("石川県金沢市もりの里３−２８", "石川県", "金沢市", "もりの里", "3-28"),
        ("松戸市稔台7-3-1", None, "松戸市", "稔台", "7-3-1"),
    ],
)
def test_split_address(text: str, pref: str | None, municipality: str, town: str, rest: str) -> None:
    parts = split_address(text)
    assert (parts.prefecture, parts.municipality, parts.town, parts.rest) == (pref, municipality, town, rest)
