import random

from ingest.seen import FirstLines, digest64


def test_first_lines_agrees_with_a_dict_through_growth_and_collisions() -> None:
    rng = random.Random(3)  # noqa: S311 - test data, not secrets
    # Keys sharing their low bits land on the same slots: probing must still tell them apart.
    keys = [rng.getrandbits(64) or 1 for _ in range(5000)] + [(i << 20) | 7 for i in range(1, 3000)]
    keys += rng.sample(keys, 2000)  # repeats
    table = FirstLines(capacity=16)
    expected: dict[int, int] = {}
    for line, key in enumerate(keys, start=2):
        assert table.first(key, line) == expected.get(key)
        expected.setdefault(key, line)
    assert len(table) == len(expected)


def test_digest64_is_stable_and_never_the_empty_marker() -> None:
    assert digest64("B0000001") == digest64("B0000001")
    assert digest64("B0000001") != digest64("B0000002")
    assert all(digest64(str(i)) != 0 for i in range(1000))
