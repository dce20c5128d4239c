"""Registration lifecycle: withdrawals with notice, closures, expiry and automatic extension."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Engine, select, text

from ingest.lifecycle import apply, next_term_end
from ingest.pipeline import ingest_file
from ingest.programmes import load_programme
from search.queries import live
from search.tables import shop_changes, shops

HEADER = "source_id,name,address,lat,lng,registered_on,withdrawn_on,closed_on,notified_on\n"
TODAY = date(2026, 6, 1)


def _file(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "registry.csv"
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def _status(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(shops.c.source_id, shops.c.status)).all())


def _live(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(shops.c.source_id).where(live())).scalars())


def _changes(engine: Engine) -> list[tuple[str, str, str | None, date | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                shops.c.source_id, shop_changes.c.change, shop_changes.c.reason, shop_changes.c.effective_on
            )
            .join(shops, shops.c.id == shop_changes.c.shop_id)
            .order_by(shop_changes.c.id)
        ).all()
    return [tuple(r) for r in rows]


def test_withdrawals_and_closures_leave_search_on_their_date(engine: Engine, tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        "A,店A,愛知県名古屋市中区1-1,35.17,136.9,2025-05-01,,,",
        "B,店B,愛知県名古屋市中区1-2,35.17,136.9,2025-05-01,2026-05-31,,2026-04-01",
        "C,店C,愛知県名古屋市中区1-3,35.17,136.9,2025-05-01,2026-06-10,,2026-05-20",
        "D,店D,愛知県名古屋市中区1-4,35.17,136.9,2025-05-01,,2026-06-05,",
    )
    summary = ingest_file(engine, path, load_programme("aichi"), today=TODAY)
    assert summary.accounted == summary.rows == 4
    assert summary.withdrawn == 1  # B left search on 31 May
    assert _status(engine) == {"A": "active", "B": "withdrawn", "C": "active", "D": "active"}
    assert _live(engine) == {"A", "C", "D"}
    # Aichi wants a month's notice: C told the office on 20 May, so it leaves on 19 June, not 10 June.
    with engine.connect() as conn:
        moved = conn.execute(
            select(shops.c.withdrawn_on, shops.c.location_flags).where(shops.c.source_id == "C")
        ).one()
    assert moved.withdrawn_on == date(2026, 6, 19)
    assert "withdrawal_after_notice_period" in moved.location_flags

    assert apply(engine, date(2026, 6, 10)) == {"closed": 1}
    assert _live(engine) == {"A", "C"}
    assert apply(engine, date(2026, 6, 10)) == {}  # idempotent
    assert apply(engine, date(2026, 6, 19)) == {"withdrawn": 1}
    assert _live(engine) == {"A"}
    history = [c for c in _changes(engine) if c[1] == "removed"]
    assert history == [
        ("B", "removed", "withdrawn", date(2026, 5, 31)),
        ("D", "removed", "closed", date(2026, 6, 5)),
        ("C", "removed", "withdrawn", date(2026, 6, 19)),
    ]
    # Re-running the same file after the dates passed changes nothing.
    again = ingest_file(engine, path, load_programme("aichi"), today=date(2026, 6, 20))
    assert again.unchanged == 4 and again.updated == 0


def test_registrations_renew_on_31_march_unless_the_programme_does_not(
    engine: Engine, tmp_path: Path
) -> None:
    path = _file(tmp_path, "K,店K,神奈川県藤沢市1-1,35.33,139.48,2025-05-01,,,")
    ingest_file(engine, path, load_programme("kanagawa"), today=date(2025, 6, 1))
    with engine.connect() as conn:
        assert conn.execute(select(shops.c.expires_on)).scalar_one() == date(2026, 3, 31)
    assert apply(engine, date(2026, 4, 1)) == {"extended": 1}
    with engine.connect() as conn:
        assert conn.execute(select(shops.c.expires_on, shops.c.status)).one() == (date(2027, 3, 31), "active")

    fixed_term = tmp_path / "fixed.toml"
    fixed_term.write_text(
        'code = "fixedterm"\nname = "一年限り"\nprefectures = [14]\n'
        '[lifecycle]\nexpiry = "first_march_31_after_registration"\n',
        encoding="utf-8",
    )
    ingest_file(engine, path, load_programme(str(fixed_term)), today=date(2025, 6, 1))
    assert apply(engine, date(2026, 3, 31), "fixedterm") == {}
    assert apply(engine, date(2026, 4, 1), "fixedterm") == {"expired": 1}
    with engine.connect() as conn:
        gone = conn.execute(
            text("SELECT s.status, c.effective_on FROM shops s JOIN shop_changes c ON c.shop_id = s.id "
                 "WHERE c.reason = 'expired'")
        ).one()  # fmt: skip
    assert gone == ("expired", date(2026, 4, 1))


def test_next_term_end() -> None:
    assert next_term_end(date(2024, 3, 31), 1, date(2026, 4, 1)) == date(2027, 3, 31)
    assert next_term_end(date(2026, 3, 31), 1, date(2026, 3, 31)) == date(2026, 3, 31)
