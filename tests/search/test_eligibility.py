"""Card eligibility on the boundary dates (school year runs 2 April - 1 April)."""

from __future__ import annotations

from datetime import date

import pytest

from search.eligibility import (
    aichi_child_until,
    aichi_eligible,
    aichi_multi_child_eligible,
    cohort_year,
    elementary_end,
    elementary_start,
    kanagawa_eligible,
    kanagawa_valid_until,
)


@pytest.mark.parametrize(
    ("birth", "cohort"),
    [
        (date(2015, 4, 1), 2014),  # 早生まれ: a 1 April child joins the year above
        (date(2015, 4, 2), 2015),
        (date(2016, 1, 1), 2015),
        (date(2016, 2, 29), 2015),
        (date(2015, 12, 31), 2015),
    ],
)
def test_school_cohort(birth: date, cohort: int) -> None:
    assert cohort_year(birth) == cohort


def test_elementary_school_dates() -> None:
    assert elementary_start(date(2015, 4, 2)) == date(2022, 4, 1)
    assert elementary_start(date(2015, 4, 1)) == date(2021, 4, 1)
    # graduation: 31 March of the school year in which the child turns 12
    assert elementary_end(date(2015, 4, 2)) == date(2028, 3, 31)
    assert elementary_end(date(2015, 4, 1)) == date(2027, 3, 31)
    assert elementary_end(date(2016, 4, 1)) == date(2028, 3, 31)


def test_kanagawa_until_the_youngest_finishes_elementary_school() -> None:
    older, youngest = date(2010, 6, 1), date(2015, 4, 2)
    assert kanagawa_valid_until([older, youngest]) == date(2028, 3, 31)
    assert kanagawa_eligible([older, youngest], date(2028, 3, 31))
    assert not kanagawa_eligible([older, youngest], date(2028, 4, 1))
    # one day earlier birth, one school year earlier
    assert kanagawa_eligible([date(2015, 4, 1)], date(2027, 3, 31))
    assert not kanagawa_eligible([date(2015, 4, 1)], date(2027, 4, 1))
    assert kanagawa_valid_until([]) is None
    assert kanagawa_eligible([], date(2027, 4, 1), pregnant=True)
    assert not kanagawa_eligible([], date(2027, 4, 1))


@pytest.mark.parametrize(
    ("birth", "until"),
    [
        # reaches 18 on 31 March 2024 (day before the birthday): that 31 March is the first one
        (date(2006, 4, 1), date(2024, 3, 31)),
        (date(2006, 4, 2), date(2025, 3, 31)),
        (date(2006, 3, 31), date(2024, 3, 31)),
        (date(2007, 1, 15), date(2025, 3, 31)),
    ],
)
def test_aichi_child_counts_until_first_31_march_after_18(birth: date, until: date) -> None:
    assert aichi_child_until(birth) == until
    assert aichi_eligible([birth], until)
    assert not aichi_eligible([birth], date(until.year, 4, 1))


def test_aichi_multi_child_card() -> None:
    kids = [date(2006, 4, 2), date(2010, 5, 5), date(2014, 7, 7)]
    assert aichi_multi_child_eligible(kids, date(2025, 3, 31))
    # the eldest stops counting on 1 April 2025: two children left
    assert not aichi_multi_child_eligible(kids, date(2025, 4, 1))
    assert aichi_multi_child_eligible(kids, date(2025, 4, 1), pregnant=True)
    # a child not yet born does not count
    assert not aichi_multi_child_eligible(
        [date(2010, 5, 5), date(2014, 7, 7), date(2026, 1, 1)], date(2025, 6, 1)
    )
