"""Municipality codes: the 5-digit code and the 6-digit 全国地方公共団体コード with its check digit."""

from __future__ import annotations

import re

_CODE5_RE = re.compile(r"^[0-9]{5}$")
_WEIGHTS = (6, 5, 4, 3, 2)


def check_digit(code5: str) -> int:
    """The check digit: weights 6..2, 11 minus the remainder mod 11, last digit of that."""
    if not _CODE5_RE.match(code5):
        raise ValueError(f"not a 5-digit municipality code: {code5!r}")
    total = sum(int(d) * w for d, w in zip(code5, _WEIGHTS, strict=True))
    return (11 - total % 11) % 10


def lg_code(code5: str) -> str:
    """The 6-digit 全国地方公共団体コード for a 5-digit code."""
    return f"{code5}{check_digit(code5)}"


def parse_code(value: str | int | None) -> str | None:
    """Accept a 5-digit code, a 6-digit code (check digit verified) or an integer that lost its zeros.

    Returns the 5-digit code, or ``None`` for an empty value. Raises ``ValueError`` for a bad code.
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if not text.isdigit():
        raise ValueError(f"municipality code must be digits: {text!r}")
    if len(text) == 6:  # noqa: PLR2004 - the 6-digit form carries a check digit
        code5 = text[:5]
        if check_digit(code5) != int(text[5]):
            raise ValueError(f"bad check digit in municipality code {text!r}")
        return code5
    if len(text) <= 5:  # noqa: PLR2004
        return text.zfill(5)
    raise ValueError(f"municipality code too long: {text!r}")


def prefecture_of(code5: str) -> int:
    return int(code5[:2])
