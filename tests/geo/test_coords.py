import pytest

from geo.coords import PointFlag, PointProblem, check_point


def test_plausible_point_is_accepted() -> None:
    check = check_point("35.3387", "139.4871")
    assert check.ok and (check.lat, check.lng) == (35.3387, 139.4871) and check.flags == ()


def test_swapped_point_is_repaired_and_flagged() -> None:
    check = check_point("136.6833", "36.5590")
    assert check.ok
    assert (check.lat, check.lng) == (36.5590, 136.6833)
    assert check.flags == (PointFlag.SWAPPED,)


@pytest.mark.parametrize(
    ("lat", "lng", "problem"),
    [
        ("", "", PointProblem.MISSING),
        (None, None, PointProblem.MISSING),
        ("0", "0", PointProblem.MISSING),
        ("35.1", "", PointProblem.ONLY_ONE),
        ("abc", "139", PointProblem.NOT_A_NUMBER),
        ("nan", "139", PointProblem.NOT_A_NUMBER),
        ("51.5", "-0.12", PointProblem.OUTSIDE_JAPAN),
        ("-35.3", "139.4", PointProblem.OUTSIDE_JAPAN),
    ],
)
def test_implausible_points_are_refused(lat: str | None, lng: str | None, problem: PointProblem) -> None:
    check = check_point(lat, lng)
    assert not check.ok
    assert check.problem is problem
