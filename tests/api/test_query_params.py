"""The query-parameter table that hot routes read themselves (api/params.py): checks and OpenAPI agree."""

from __future__ import annotations

import pytest

from api.params import QueryParam, openapi_parameters, read_params
from search.errors import InvalidQuery

TABLE = (
    QueryParam("code", "a code", pattern=r"^[0-9]{5}$", max_length=5),
    QueryParam("n", "a count", kind="integer", minimum=1),
    QueryParam("tag", "tags", enum=("a", "b"), many=True, max_items=2),
)


def test_values_are_read_and_absent_ones_are_none() -> None:
    got = read_params(TABLE, [("code", "14205"), ("n", "+7"), ("tag", "a"), ("tag", "b")])
    assert got == {"code": "14205", "n": 7, "tag": ["a", "b"]}
    assert read_params(TABLE, []) == {"code": None, "n": None, "tag": None}
    assert read_params(TABLE, [("n", "1"), ("n", "3")])["n"] == 3  # a single parameter keeps its last value


@pytest.mark.parametrize(
    "pairs",
    [
        [("code", "1420")],
        [("code", "14205\n")],  # Python's `$` would accept the newline; the whole value must match
        [("code", "142050")],
        [("n", "0")],
        [("n", "1.0")],
        [("n", "1_000")],
        [("n", "１")],  # a full-width digit: int() would take it
        [("n", "1" * 19)],
        [("n", "")],
        [("tag", "c")],
        [("tag", "a"), ("tag", "a"), ("tag", "b")],
        [("other", "x")],
    ],
)
def test_bad_values_are_invalid_queries(pairs: list[tuple[str, str]]) -> None:
    with pytest.raises(InvalidQuery):
        read_params(TABLE, pairs)


def test_openapi_entries_are_made_from_the_same_table() -> None:
    params = {p["name"]: p for p in openapi_parameters(TABLE)["parameters"]}
    assert params["code"]["schema"] == {"type": "string", "pattern": "^[0-9]{5}$", "maxLength": 5}
    assert params["n"]["schema"] == {"type": "integer", "minimum": 1}
    assert params["tag"]["schema"] == {
        "type": "array",
        "items": {"type": "string", "enum": ["a", "b"]},
        "maxItems": 2,
    }
    assert all(p["in"] == "query" and p["required"] is False for p in params.values())


def test_patterns_must_be_anchored() -> None:
    with pytest.raises(ValueError, match="anchored"):
        QueryParam("x", "x", pattern="[0-9]+")
