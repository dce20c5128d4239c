"""Registration lifecycle, per programme: when a shop's registration ends and why.

Rules come from the programme's ``[lifecycle]`` table:

* ``expiry = "first_march_31_after_registration"``: a registration runs to the first 31 March after the
  shop registered; ``auto_extend_years = N`` renews it N years at a time unless the shop withdraws.
* ``change_notice_days = N`` (Aichi: a month): a withdrawal or change takes effect no earlier than N days
  after the office was told (``notified_on``); an earlier ``withdrawn_on`` is moved, with a flag.
* Closures (``closed_on``, reported by a municipality) take effect on their date, without notice.

A shop whose end date has come is not ``active``, so search leaves it out. Ends in the future are
applied on the day by ``kosodate lifecycle apply`` (run daily), which records them in ``shop_changes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from importlib.resources import files
from typing import Any

from sqlalchemy import Engine, bindparam, text, update

from ingest.models import NormalizedShop
from search.tables import shops

ACTIVE, WITHDRAWN, EXPIRED, CLOSED = "active", "withdrawn", "expired", "closed"


@dataclass(frozen=True, slots=True)
class Standing:
    status: str
    withdrawn_on: date | None  # the effective date (after any notice period)
    closed_on: date | None
    flags: tuple[str, ...] = ()


def withdrawal_effective(shop: NormalizedShop, rules: dict[str, Any]) -> tuple[date | None, tuple[str, ...]]:
    if shop.withdrawn_on is None:
        return None, ()
    notice = int(rules.get("change_notice_days", 0) or 0)
    if notice and shop.notified_on is not None:
        earliest = shop.notified_on + timedelta(days=notice)
        if shop.withdrawn_on < earliest:
            return earliest, ("withdrawal_after_notice_period",)
    return shop.withdrawn_on, ()


def standing(shop: NormalizedShop, expires_on: date | None, rules: dict[str, Any], today: date) -> Standing:
    """Where the shop stands today."""
    withdrawn_on, flags = withdrawal_effective(shop, rules)
    ends = [
        (shop.closed_on, CLOSED),
        (withdrawn_on, WITHDRAWN),
    ]
    if expires_on is not None and not int(rules.get("auto_extend_years", 0) or 0):
        ends.append((expires_on + timedelta(days=1), EXPIRED))
    due = sorted((d, s) for d, s in ends if d is not None and d <= today)
    status = due[0][1] if due else ACTIVE
    return Standing(status, withdrawn_on, shop.closed_on, flags)


def next_term_end(expires_on: date, years: int, today: date) -> date:
    """The first end of term on or after ``today``, stepping ``years`` at a time."""
    end = expires_on
    while end < today:
        end = end.replace(year=end.year + years)
    return end


def apply(engine: Engine, today: date, programme: str | None = None) -> dict[str, int]:
    """Extend live registrations whose term ran out (where the programme renews automatically), then
    take closed, withdrawn and expired shops out of search. Returns counts by outcome. Idempotent."""
    out: dict[str, int] = {}
    with engine.begin() as conn:
        due = conn.execute(text(_sql("lifecycle_extend_due.sql")), {"today": today, "programme": programme})
        extended = [
            {"id": row.id, "expires_on": next_term_end(row.expires_on, int(row.years), today)} for row in due
        ]
        if extended:
            conn.execute(
                update(shops)
                .where(shops.c.id == bindparam("shop_id"))
                .values(expires_on=bindparam("new_end")),
                [{"shop_id": e["id"], "new_end": e["expires_on"]} for e in extended],
            )
            conn.execute(
                text(
                    "INSERT INTO shop_changes (shop_id, programme_id, change, reason, effective_on) "
                    "SELECT id, programme_id, 'changed', 'extended', expires_on FROM shops "
                    "WHERE id = ANY(:ids)"
                ),
                {"ids": [e["id"] for e in extended]},
            )
            out["extended"] = len(extended)
        for row in conn.execute(text(_sql("lifecycle_apply.sql")), {"today": today, "programme": programme}):
            out[str(row.status)] = int(row.n)
    return out


def _sql(name: str) -> str:
    return (files("ingest") / "sql" / name).read_text(encoding="utf-8")
