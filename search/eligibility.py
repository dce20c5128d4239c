"""Who holds a card, and until when: pure date rules per programme.

Japanese ages rise at the end of the day before a birthday (年齢計算ニ関スル法律), so a school year
(April to March) holds the children born from 2 April to 1 April of the next year. A child enters
elementary school in the April after turning six and finishes it on 31 March of the school year in
which it turns twelve.

* Kanagawa (かながわ子育て応援パスポート): a family's passport is valid until the youngest child
  finishes elementary school; a pregnant family is eligible before the birth.
* Aichi (はぐみんカード): a child counts until the first 31 March after reaching 18
  (18歳に達して最初の3月31日), which is the end of the school year in which it turns 18. The
  multi-child card (多子世帯向け) needs three such children, or two and a pregnancy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

MULTI_CHILD_COUNT = 3  # 多子世帯: three or more children under 18


def cohort_year(birth: date) -> int:
    """The school cohort: the calendar year in which the child's school year of birth began (2 April rule)."""
    return birth.year if (birth.month, birth.day) >= (4, 2) else birth.year - 1


def elementary_start(birth: date) -> date:
    return date(cohort_year(birth) + 7, 4, 1)


def elementary_end(birth: date) -> date:
    """31 March of the school year in which the child turns 12."""
    return date(cohort_year(birth) + 13, 3, 31)


def aichi_child_until(birth: date) -> date:
    """The first 31 March on or after the day the child reaches 18 (the day before its 18th birthday)."""
    return date(cohort_year(birth) + 19, 3, 31)


def kanagawa_valid_until(births: Iterable[date]) -> date | None:
    """Until the youngest child finishes elementary school; ``None`` with no child born yet (pregnancy)."""
    births = list(births)
    if not births:
        return None
    return elementary_end(max(births))


def kanagawa_eligible(births: Sequence[date], on: date, *, pregnant: bool = False) -> bool:
    if pregnant:
        return True
    until = kanagawa_valid_until(b for b in births if b <= on)
    return until is not None and on <= until


def aichi_children_counted(births: Iterable[date], on: date) -> int:
    return sum(1 for b in births if b <= on <= aichi_child_until(b))


def aichi_eligible(births: Sequence[date], on: date, *, pregnant: bool = False) -> bool:
    return pregnant or aichi_children_counted(births, on) > 0


def aichi_multi_child_eligible(births: Sequence[date], on: date, *, pregnant: bool = False) -> bool:
    """Three or more children under the Aichi age rule, or two and pregnant with the third."""
    counted = aichi_children_counted(births, on)
    return counted >= MULTI_CHILD_COUNT or (pregnant and counted >= MULTI_CHILD_COUNT - 1)
